#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Works on a fresh machine with the Rust toolchain, Node.js/npm and Debian's apt: every tool the
# tests need is installed, pinned, by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x scripts/setup.sh ]]; then
  scripts/setup.sh
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --all-features --locked
echo "==> cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked -q

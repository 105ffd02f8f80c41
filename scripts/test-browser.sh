#!/usr/bin/env bash
# The dashboard in a real browser: builds `ringfence`, installs chromium and playwright-core
# (scripts/setup-browser.sh), starts `ringfence serve` on examples/ecosystem.toml with a live guard
# on a free loopback port, and drives every view with node's test runner. Screenshots go to
# test-artifacts/browser/. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo build -p ringfence-cli"
cargo build --locked -q -p ringfence-cli
target_dir=${CARGO_TARGET_DIR:-target}
export RINGFENCE_BIN=${RINGFENCE_BIN:-$(cd "$target_dir" && pwd)/debug/ringfence}

scripts/setup-browser.sh

echo "==> browser tests (chromium + playwright-core)"
mkdir -p test-artifacts/browser
(cd tests/browser && node --test --test-concurrency=1 format.test.mjs dashboard.test.mjs)
echo "screenshots: test-artifacts/browser/"

#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Works on a fresh Debian machine with the Rust toolchain, Node.js/npm and apt: every tool the
# tests need is installed, pinned, by scripts/setup.sh (anvil, solc) and
# scripts/setup-browser.sh (chromium, playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."

# CI builds once from scratch: incremental caches would only double what the build writes to disk.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi

# Cheapest first, so that a broken step fails in seconds, not after the ten-minute ones.
scripts/setup.sh
scripts/setup-nats.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> self-contained: no file names a folder outside the repository"
if grep -rIn --exclude-dir=.git --exclude-dir=target --exclude-dir=node_modules \
     --exclude-dir=test-artifacts -e '\.\.[/]shared' . ; then
  echo "the lines above name the sibling shared/ folder, which a user's clone does not have: ship the data in data/" >&2
  exit 1
fi
echo "==> cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "==> cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked -q

echo "==> ringfence replay --all incidents/ --benign 3 (real anvil chains; gate: guard + limits median >= 99 %, verifier arm >= 99 % in EVERY incident, no false trip and no verifier refusal on measured benign traffic)"
cargo build --locked -q -p ringfence-cli
target_dir=${CARGO_TARGET_DIR:-target}
"$target_dir/debug/ringfence" replay --all incidents/ --benign 3 --format json > "$target_dir/replay-all.json"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).summary;
  console.log(`incidents ${s.incidents}, median prevented ${(100 * s.median_prevented_share).toFixed(2)} %, worst ${s.worst_incident} ${(100 * s.worst_prevented_share).toFixed(2)} %, false trips ${s.false_trips} over ${s.benign_steps} benign transfers`);
  const v = s.arms.verifier;
  console.log(`verifier arm: median ${(100 * v.median_prevented_share).toFixed(2)} %, worst ${v.worst_incident} ${(100 * v.worst_prevented_share).toFixed(2)} %, benign refused ${v.benign_refused}, delay <= ${v.verifier_delay_blocks_max} blocks`);
  if (s.incidents < 7 || s.median_prevented_share < 0.99 || s.benign_steps === 0 || s.false_trips !== 0) { console.error("replay gate failed"); process.exit(1); }
  if (v.worst_prevented_share < 0.99 || v.benign_refused !== 0) { console.error("replay gate failed: verifier arm"); process.exit(1); }
' "$target_dir/replay-all.json"

echo "==> dashboard in a real browser (chromium + playwright-core)"
scripts/test-browser.sh

echo "==> the README's shell examples, as written (anvil on the README's ports 8545/8546, serve on 8080)"
node scripts/test-readme.mjs

echo "==> cargo test"
cargo test --workspace --all-features --locked

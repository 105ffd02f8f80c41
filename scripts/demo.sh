#!/usr/bin/env bash
# The ringfence demo on the shipped example: exposure, limits and lint on a 2026 cross-chain
# ecosystem, printed as tables, plus an HTML report in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=examples/ecosystem.toml
mkdir -p out

cargo build --release --locked -q -p ringfence-cli
rf=target/release/ringfence

section() { printf '\n\033[1m━━ %s\033[0m\n' "$*"; }

section "ringfence exposure $SPEC — who really depends on which layer, verifier, org, cloud and key"
"$rf" exposure "$SPEC"

section "ringfence limits $SPEC — concentration policy breaches and the smallest fix (exit 1 = breach)"
"$rf" limits "$SPEC" || [[ $? -eq 1 ]]

section "ringfence lint $SPEC — dangerous infrastructure assumptions (exit 1 = high or critical)"
"$rf" lint "$SPEC" || [[ $? -eq 1 ]]

"$rf" exposure "$SPEC" --format html -o out/exposure.html
section "Open out/exposure.html for the dependency graph and all tables."

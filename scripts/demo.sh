#!/usr/bin/env bash
# The ringfence demo on the shipped example: exposure, limits, lint and stress tests on a 2026
# cross-chain ecosystem, printed as tables, plus HTML reports in out/.
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

section "ringfence stress $SPEC --fail resolv-service-role — Resolv 2026: one KMS key mints 80M unbacked USR"
"$rf" stress "$SPEC" --fail resolv-service-role

section "ringfence stress $SPEC --fail kelp-rseth-dvn — KelpDAO 2026: a 1-of-1 DVN attests a forged message"
"$rf" stress "$SPEC" --fail kelp-rseth-dvn

section "ringfence stress $SPEC --rank --monte-carlo 200000 — every single failure ranked; loss distribution"
"$rf" stress "$SPEC" --rank --monte-carlo 200000 --seed 1 | head -40

"$rf" exposure "$SPEC" --format html -o out/exposure.html
"$rf" stress "$SPEC" --fail resolv-service-role --format html -o out/stress-resolv.html
section "Open out/exposure.html (dependency graph, tables) and out/stress-resolv.html (waterfall)."

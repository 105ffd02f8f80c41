#!/usr/bin/env bash
# The ringfence demo, on the shipped example data:
#   1. exposure, limits, lint and stress tests on a 2026 cross-chain ecosystem (tables, HTML in out/);
#   2. the live guard on two local anvil chains: a forged release and an unbacked mint, each
#      stopped by a pause transaction mined in the next block; then a fleet of two guards on NATS
#      JetStream (`watch --bus`), one killed, the other taking its chain over;
#   3. the incident lab: seven real exploits and two variants replayed in six arms — no controls,
#      the guard, on-chain limits, both, ringfence as a required verifier, all;
#   4. the dashboard with the live guard, at http://127.0.0.1:8080/ (Ctrl-C to stop).
# `--no-serve` skips step 4 (it is skipped too when stdin is not a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=examples/ecosystem.toml
serve=1
[[ ${1:-} == --no-serve || ! -t 0 ]] && serve=0
mkdir -p out

section() { printf '\n\033[1m━━ %s\033[0m\n' "$*"; }

# A debug build: the same one the tests use, so demo then tests compile once. Every step runs in
# seconds in debug (200,000 Monte Carlo draws: ~1 s); a release build would add ~16 min on two
# cores, most of it optimising the bundled SQLite and aws-lc C code (see README, "Build time").
section "building (debug, shared with the tests)"
cargo build --locked -q -p ringfence-cli
cargo build --locked -q -p ringfence-chain --example guard_demo
target_dir=${CARGO_TARGET_DIR:-target}
rf=$target_dir/debug/ringfence
fixtures=$target_dir/debug/examples/guard_demo

section "ringfence exposure $SPEC — who really depends on which layer, verifier, org, cloud and key"
"$rf" exposure "$SPEC" --limit 25

section "ringfence limits $SPEC — concentration policy breaches and the smallest fix (exit 1 = breach)"
"$rf" limits "$SPEC" || [[ $? -eq 1 ]]

section "ringfence lint $SPEC — dangerous infrastructure assumptions (exit 1 = high or critical)"
"$rf" lint "$SPEC" || [[ $? -eq 1 ]]

section "ringfence stress $SPEC --fail resolv-service-role — Resolv 2026: one KMS key mints 80M unbacked USR"
"$rf" stress "$SPEC" --fail resolv-service-role

section "ringfence stress $SPEC --fail resolv-service-role --uncertainty 10000 — the same with every input over its sourced range"
"$rf" stress "$SPEC" --fail resolv-service-role --uncertainty 10000 --seed 1

section "ringfence stress $SPEC --calibrate examples/calibration.toml — fitted on Resolv, validated unchanged on KelpDAO → Aave"
"$rf" stress "$SPEC" --calibrate examples/calibration.toml

section "ringfence stress $SPEC --fail kelp-rseth-dvn — KelpDAO 2026: a 1-of-1 DVN attests a forged message"
"$rf" stress "$SPEC" --fail kelp-rseth-dvn

section "ringfence stress $SPEC --rank --monte-carlo 200000 — every single failure ranked; a year of failures"
"$rf" stress "$SPEC" --rank --monte-carlo 200000 --seed 1

section "ringfence stress $SPEC --reverse 1e9 — the smallest failure a team can act on that costs over \$1B"
"$rf" stress "$SPEC" --reverse 1e9

"$rf" exposure "$SPEC" --format html -o out/exposure.html
"$rf" stress "$SPEC" --fail resolv-service-role --format html -o out/stress-resolv.html

section "ringfence watch — the live guard on two local chains (anvil, 1-second blocks)"
scripts/setup.sh >/dev/null
anvil=node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
pids=()
# anvil writes old block states under --cache-path and never deletes them.
states=$(mktemp -d)
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$states"; }
trap cleanup EXIT
"$anvil" --port 8545 --block-time 1 --chain-id 1 --silent --cache-path "$states/1" & pids+=($!)
"$anvil" --port 8546 --block-time 1 --chain-id 10 --silent --cache-path "$states/10" & pids+=($!)
for port in 8545 8546; do
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
"$fixtures" deploy
rm -f ringfence.db ringfence.db-wal ringfence.db-shm
# anvil's public development account #1 is the guardian: a well-known test key, never a real one.
export RINGFENCE_GUARDIAN_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
"$rf" watch examples/guard/ringfence-guard.toml > out/alerts.jsonl & pids+=($!)
sleep 2
echo "benign: a lock on the source and its matching release on the destination"
"$fixtures" benign
echo "attack: a release that no lock backs (CrossCurve / Nomad)"
"$fixtures" forged-release
echo "attack: an unbacked mint by a compromised minter key (Resolv)"
"$fixtures" mint-attack
sleep 2
echo "alerts (out/alerts.jsonl):"
node -e '
  for (const line of require("fs").readFileSync("out/alerts.jsonl", "utf8").split("\n").filter(Boolean)) {
    const a = JSON.parse(line);
    const acts = (a.actions || []).map(x => `${x.kind} ${x.status}${x.tx ? " " + x.tx.slice(0, 12) + "…" : ""}`).join(", ");
    console.log(`  ${a.severity.padEnd(5)} ${a.rule} (${a.kind}/${a.reason}) chain ${a.chain} block ${a.block}${acts ? " → " + acts : ""}`);
  }'
kill "${pids[2]}" 2>/dev/null || true

section "ringfence watch --bus — a fleet of two members on NATS JetStream; the one ingesting the destination is killed (kill -9)"
scripts/setup-nats.sh >/dev/null
# Fresh chains (the first guard paused the bridge and the token).
kill "${pids[0]}" "${pids[1]}" 2>/dev/null || true
wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
"$anvil" --port 8545 --block-time 1 --chain-id 1 --silent --cache-path "$states/f1" & pids+=($!); fleet_src=$!
"$anvil" --port 8546 --block-time 1 --chain-id 10 --silent --cache-path "$states/f10" & pids+=($!); fleet_dst=$!
for port in 8545 8546; do
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
"$fixtures" deploy
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
"$nats" -a 127.0.0.1 -p 4250 -js -sd "$states/nats" >/dev/null 2>&1 & pids+=($!); nats_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/4250) 2>/dev/null && break; sleep 0.1; done
rm -f out/member-a.db* out/member-b.db*
declare -A member_pid
for m in a b; do
  NO_COLOR=1 "$rf" -v watch examples/guard/ringfence-guard.toml --bus nats://127.0.0.1:4250 --member "$m" \
    --store "out/member-$m.db" > "out/fleet-$m.jsonl" 2> "out/fleet-$m.log" & pids+=($!)
  member_pid[$m]=$!
done
holder=""
for _ in $(seq 100); do
  holder=$(grep -ho 'ingest lease acquired chain=dst member=[a-z]*' out/fleet-a.log out/fleet-b.log | tail -1 | sed 's/.*member=//' || true)
  [[ -n $holder ]] && break
  sleep 0.1
done
survivor=$([[ $holder == a ]] && echo b || echo a)
sleep 2
echo "member $holder ingests the destination chain: kill -9"
killed_at=$(date +%s%N)
kill -9 "${member_pid[$holder]}"
for _ in $(seq 100); do
  grep -q 'ingest lease acquired chain=dst' "out/fleet-$survivor.log" 2>/dev/null && break
  sleep 0.1
done
echo "member $survivor took the destination over $(( ($(date +%s%N) - killed_at) / 1000000 )) ms after the kill (lease TTL 3 s)"
echo "attack: a release that no lock backs, judged by the surviving member"
"$fixtures" forged-release
sleep 2
echo "alerts printed by the fleet (out/fleet-$survivor.jsonl; each alert is printed and acted on by one member):"
node -e '
  for (const f of process.argv.slice(1)) for (const line of require("fs").readFileSync(f, "utf8").split("\n").filter(Boolean)) {
    const a = JSON.parse(line);
    const acts = (a.actions || []).map(x => `${x.kind} ${x.status}${x.tx ? " " + x.tx.slice(0, 12) + "…" : ""}`).join(", ");
    console.log(`  ${a.severity.padEnd(5)} ${a.rule} (${a.kind}/${a.reason}) chain ${a.chain} block ${a.block}${acts ? " → " + acts : ""}`);
  }' out/fleet-a.jsonl out/fleet-b.jsonl
kill "${member_pid[$survivor]}" "$nats_pid" "$fleet_src" "$fleet_dst" 2>/dev/null || true
wait "${member_pid[$survivor]}" "$nats_pid" "$fleet_src" "$fleet_dst" 2>/dev/null || true

section "ringfence attest — ringfence as a required verifier: 2 of 3 attestors must sign before a delivery executes"
# Fresh chains for the verifier's fixtures (the attested gateway and the 2-of-3 attestor set).
kill "${pids[0]}" "${pids[1]}" 2>/dev/null || true
wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
"$anvil" --port 8545 --block-time 1 --chain-id 1 --silent --cache-path "$states/1" & pids+=($!)
"$anvil" --port 8546 --block-time 1 --chain-id 10 --silent --cache-path "$states/10" & pids+=($!)
cargo build --locked -q -p ringfence-attest --example attest_demo
attest_demo=$target_dir/debug/examples/attest_demo
"$attest_demo" deploy
# Attestors A and C, each with its own key (public test keys), store and port; B stays down.
sed 's/attestor-a.db/out\/attestor-c.db/; s/9470/9472/' examples/attest/ringfence-attest.toml > out/attestor-c.toml
sed 's/attestor-a.db/out\/attestor-a.db/' examples/attest/ringfence-attest.toml > out/attestor-a.toml
rm -f out/attestor-a.db* out/attestor-c.db*
RINGFENCE_ATTESTOR_KEY=0x1111111111111111111111111111111111111111111111111111111111111111 \
  "$rf" attest out/attestor-a.toml > out/attestor-a.jsonl & pids+=($!)
RINGFENCE_ATTESTOR_KEY=0x3333333333333333333333333333333333333333333333333333333333333333 \
  "$rf" attest out/attestor-c.toml > out/attestor-c.jsonl & pids+=($!)
echo "benign: a lock on the source, its request on the destination, two attestations, delivered"
"$attest_demo" benign
echo "attack: a request that no source event backs (KelpDAO / Nomad): no attestation, delivery reverts"
"$attest_demo" forged
echo "what the attestors said (out/attestor-a.jsonl):"
head -5 out/attestor-a.jsonl | cut -c1-200

section "ringfence replay --all incidents/ — seven real exploits and two variants, in six arms (about 2.5 min)"
"$rf" replay --all incidents/ --format table

section "Reports: out/exposure.html (dependency graph, tables), out/stress-resolv.html (waterfall)"
if [[ $serve == 1 ]]; then
  export RINGFENCE_API_TOKEN=${RINGFENCE_API_TOKEN:-demo-token}
  section "ringfence serve — open http://127.0.0.1:8080/ (API token for reload/acknowledge: $RINGFENCE_API_TOKEN; Ctrl-C to stop)"
  "$rf" serve --spec "$SPEC" --guard examples/guard/ringfence-guard.toml --addr 127.0.0.1:8080
else
  # The chains stop with this script: the dashboard alone works as it is; with the live guard,
  # run the chains and the key of "Run it" in the README, or this script in a terminal.
  echo "Dashboard: $rf serve --spec $SPEC (then open http://127.0.0.1:8080/)"
  echo "With the live guard: run this script in a terminal, or start the two chains as in the README's \"Run it\", then"
  echo "  RINGFENCE_GUARDIAN_KEY=$RINGFENCE_GUARDIAN_KEY $rf serve --spec $SPEC --guard examples/guard/ringfence-guard.toml"
fi

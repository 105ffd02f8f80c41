#!/usr/bin/env bash
# Regenerates data/real/ecosystem.toml: the three public sources shipped in data/ imported with
# the dated prices snapshot, then merged (L2BEAT first, then the Hyperlane registry, then the
# CCIP directory: the first is preferred on a conflict, and every conflict is reported).
# `cargo test -p ringfence-import --test it real_data` fails if the shipped file is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
PRICES=data/prices/2026-12-02.toml
OUT=target/real-data
mkdir -p "$OUT" data/real
RF=${RINGFENCE:-"cargo run -q -p ringfence-cli --"}
$RF import l2beat data/l2beat --prices "$PRICES" -o "$OUT/l2beat.toml"
$RF import hyperlane data/hyperlane-registry --prices "$PRICES" -o "$OUT/hyperlane.toml"
$RF import ccip-directory data/ccip-directory --prices "$PRICES" -o "$OUT/ccip.toml"
# Exit 1 means "merged, with conflicts to read" (they are printed above).
$RF import merge "$OUT/l2beat.toml" "$OUT/hyperlane.toml" "$OUT/ccip.toml" -o data/real/ecosystem.toml || [ $? -eq 1 ]
echo "wrote data/real/ecosystem.toml; next: ringfence exposure data/real/ and ringfence lint data/real/" >&2

#!/usr/bin/env bash
# Recompiles the Solidity fixtures in contracts/src with the pinned npm solc (solcjs) into
# contracts/out/*.json (ABI + bytecode). The artifacts are committed so `cargo build` needs no node;
# `cargo test -p ringfence-chain` checks they are current.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/solc ]; then
  echo "solc is not installed: run scripts/setup.sh" >&2
  exit 1
fi
node contracts/compile.mjs "$@"

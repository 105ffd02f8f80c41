#!/usr/bin/env bash
# Installs the npm-pinned test tools into ./node_modules with `npm ci` from package-lock.json:
# anvil (@foundry-rs/anvil-linux-amd64, the binary package behind @foundry-rs/anvil's launcher,
# whose other platform packages the registry here does not serve, so a lock with the launcher
# cannot pass `npm ci`) and solcjs (solc). Idempotent; needs only Node 20+/npm (Debian: apt-get
# install nodejs npm).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq nodejs npm
  else
    echo "npm is missing: install Node 20+ and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
anvil=node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
if [ -x "$anvil" ] && [ -f node_modules/solc/soljson.js ] \
  && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "setup: npm tools already installed" >&2
else
  # --ignore-scripts: the anvil binary ships inside the platform package; nothing to download.
  npm ci --no-audit --no-fund --ignore-scripts >&2
fi
"$anvil" --version | head -1 >&2
node -e "console.error('solc ' + require('./node_modules/solc').version())"

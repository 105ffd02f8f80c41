#!/usr/bin/env bash
# Installs what the dashboard's browser tests need, idempotently: Debian's chromium (no browser
# download by Playwright) and the pinned playwright-core of tests/browser/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  echo "==> installing chromium (apt)"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends chromium
fi

lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.ringfence-lock
if [[ ! -f $stamp ]] || ! cmp -s "$lock" "$stamp"; then
  echo "==> npm ci (tests/browser)"
  # Never let playwright try to download browsers: the tests drive /usr/bin/chromium.
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  cp "$lock" "$stamp"
fi

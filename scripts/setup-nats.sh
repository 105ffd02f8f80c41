#!/usr/bin/env bash
# Installs the NATS server the fleet tests and the demo start (crates/fleet): Debian's
# `nats-server`, pinned. Idempotent: does nothing when that version is already installed.
# Needs root and apt-get (Debian 13); elsewhere install nats-server 2.9.x by hand and put it on
# PATH (or point RINGFENCE_NATS_SERVER at it).
set -euo pipefail
want=2.9.10-1+b3
have=$(dpkg-query -W -f='${Version}' nats-server 2>/dev/null || true)
if [ "$have" = "$want" ] && command -v nats-server >/dev/null 2>&1; then
  echo "setup-nats: nats-server $want already installed" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "setup-nats: nats-server $want is missing; install it as root (apt-get install nats-server=$want)" >&2
  exit 1
fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "nats-server=$want" >&2
nats-server --version >&2

#!/usr/bin/env bash
# Installs what the full test suite needs beyond npm packages, from Debian's packages, when missing:
# PostgreSQL server binaries, Chromium (browser tests), nginx and Caddy (reverse-proxy tests) and a compose CLI
# (container file checks).
# .ci/run calls it under CI=true; locally, missing tools only skip their suites, loudly.
set -euo pipefail
cd "$(dirname "$0")"

bash ./ensure-postgres.sh
bash ./ensure-proxies.sh
if [ -f ./ensure-chromium.sh ]; then bash ./ensure-chromium.sh; fi

if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  SUDO=''
  [ "$(id -u)" = 0 ] || SUDO='sudo'
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends docker-compose
fi
echo "compose: $(docker compose version 2>/dev/null || docker-compose version --short)"

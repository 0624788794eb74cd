#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (test/web) when /usr/bin/chromium is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"; exit 0; fi
SUDO=''
[ "$(id -u)" = 0 ] || SUDO='sudo'
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version

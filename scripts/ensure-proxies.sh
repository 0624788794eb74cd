#!/usr/bin/env bash
# Makes sure Debian's nginx and Caddy exist for the reverse-proxy tests (test/deploy/reverse-proxy.test.ts
# starts its own nginx and Caddy on loopback with docs/nginx/amtp.conf and docs/caddy/Caddyfile). On
# Debian/Ubuntu, installs the `nginx` and `caddy` packages when missing, without letting the packages
# start their system services. Needs root (or passwordless sudo). Idempotent.
set -euo pipefail

missing=''
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing="$missing nginx"
[ -x /usr/bin/caddy ] || command -v caddy >/dev/null || missing="$missing caddy"
if [ -z "$missing" ]; then
  echo "reverse proxies present: $(/usr/sbin/nginx -v 2>&1 || nginx -v 2>&1), caddy $(caddy version 2>/dev/null | cut -d' ' -f1)"
  exit 0
fi

SUDO=''
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-proxies: run as root (or install sudo) to install$missing" >&2; exit 1; }
  SUDO='sudo'
fi
command -v apt-get >/dev/null || { echo "ensure-proxies: no apt-get; install$missing yourself" >&2; exit 1; }

# policy-rc.d (exit 101) forbids starting services during the install: the tests run their own nginx.
policy_created=''
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_created=1
fi
trap 'if [ -n "$policy_created" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi' EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

[ -x /usr/sbin/nginx ] || { echo "ensure-proxies: installed, but no /usr/sbin/nginx" >&2; exit 1; }
command -v caddy >/dev/null || { echo "ensure-proxies: installed, but no caddy" >&2; exit 1; }
echo "reverse proxies installed:$missing"

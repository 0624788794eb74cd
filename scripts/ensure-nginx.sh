#!/usr/bin/env bash
# Makes sure Debian's nginx binary exists for the reverse-proxy test (test/deploy/nginx.test.ts starts
# its own unprivileged nginx on loopback with docs/nginx/amtp.conf). On Debian/Ubuntu, installs the
# `nginx` package when it is missing, without letting the package start its system service.
# Needs root (or passwordless sudo). Idempotent: does nothing when nginx is already there.
set -euo pipefail

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  echo "nginx present: $( (command -v nginx || echo /usr/sbin/nginx) | head -1)"
  exit 0
fi

SUDO=''
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-nginx: run as root (or install sudo) to install nginx" >&2; exit 1; }
  SUDO='sudo'
fi
command -v apt-get >/dev/null || { echo "ensure-nginx: no apt-get; install nginx yourself" >&2; exit 1; }

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
$SUDO apt-get install -y -q --no-install-recommends nginx

[ -x /usr/sbin/nginx ] || { echo "ensure-nginx: installed, but no /usr/sbin/nginx" >&2; exit 1; }
echo "nginx installed: $(/usr/sbin/nginx -v 2>&1)"

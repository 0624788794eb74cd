#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist for the test suites (test/helpers/postgres.ts starts its
# own throwaway clusters from /usr/lib/postgresql/*/bin). On Debian/Ubuntu, installs the `postgresql`
# package when they are missing, without letting the package start or create a system cluster.
# Needs root (or passwordless sudo). Idempotent: does nothing when the binaries are already there.
set -euo pipefail

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "PostgreSQL server binaries present: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
  exit 0
fi

SUDO=''
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-postgres: run as root (or install sudo) to install PostgreSQL" >&2; exit 1; }
  SUDO='sudo'
fi
command -v apt-get >/dev/null || { echo "ensure-postgres: no apt-get; install the PostgreSQL server binaries yourself or set AMTP_TEST_DATABASE_URL" >&2; exit 1; }

# No system cluster: postgresql-common reads create_main_cluster before the package's postinst runs,
# and policy-rc.d (exit 101) forbids starting services during the install.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.d/amtp-no-main-cluster.conf >/dev/null
policy_created=''
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_created=1
fi
trap 'if [ -n "$policy_created" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi' EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends postgresql

compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "ensure-postgres: installed, but no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }
echo "PostgreSQL server binaries installed: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"

#!/bin/sh
# Installs the peers the benchmark compares Lucien with (Debian/Ubuntu):
# etcd (etcd-server) and Redis (redis-server). The bench starts its own
# instances on loopback with temporary directories and random ports, so the
# system services these packages enable are not needed: they are stopped and
# disabled here when systemd is present. Without the peers the bench still
# runs; their columns stay empty.
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update
$SUDO apt-get install -y etcd-server redis-server
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now etcd redis-server 2>/dev/null || true
fi
etcd --version | head -1
redis-server --version

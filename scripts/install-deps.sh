#!/bin/sh
# Installs the Debian packages Lucien's tests need and a fresh machine lacks:
# the Python client's gRPC runtime (python3-grpcio, python3-grpc-tools, used
# through /usr/bin/python3), etcd for the etcd backend's tests, unshare for
# the engine hosts' namespaces, openssl for the TLS tests. With --bench it
# also installs the benchmark's peers (etcd, Redis). Runs apt-get as root, or
# through sudo as a user; installs nothing that is already there. The tests
# start their own etcd and Redis on loopback, so the system services these
# packages enable are stopped when systemd is present.
set -eu
bench=no
[ "${1:-}" = "--bench" ] && bench=yes

need=""
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || need="$need python3-grpcio python3-grpc-tools"
command -v etcd >/dev/null 2>&1 || need="$need etcd-server"
command -v unshare >/dev/null 2>&1 || need="$need util-linux"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
if [ "$bench" = yes ]; then
  command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
fi

if [ -z "$need" ]; then
  echo "install-deps: nothing to install"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
  echo "install-deps: run as root or install sudo; missing Debian packages:$need" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $need
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now etcd redis-server 2>/dev/null || true
fi

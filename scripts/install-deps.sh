#!/bin/sh
# Installs the Debian packages Lucien's tests need and a fresh machine lacks:
# the Python client's gRPC runtime (python3-grpcio, python3-grpc-tools, used
# through /usr/bin/python3), pyflakes for npm run lint (the engine's .py
# files), etcd for the etcd backend's tests, unshare for
# the engine hosts' namespaces, openssl for the TLS tests, chromium for the
# admin page's browser tests, venv/setuptools/pip to install the Python client
# in a venv (its install test), Ruby's gRPC and its protoc plugin for the
# other-language stub test, protoc with the C++ gRPC plugin for the
# per-language options test. With --bench it
# also installs the benchmark's peers (etcd, Redis). Runs apt-get as root, or
# through sudo as a user; installs nothing that is already there. The tests
# start their own etcd and Redis on loopback, so the system services these
# packages enable are stopped when systemd is present.
set -eu
bench=no
[ "${1:-}" = "--bench" ] && bench=yes

need=""
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || need="$need python3-grpcio python3-grpc-tools"
/usr/bin/python3 -c 'import pyflakes' 2>/dev/null || need="$need python3-pyflakes"
/usr/bin/python3 -c 'import ensurepip, setuptools, venv' 2>/dev/null || need="$need python3-venv python3-setuptools python3-pip"
command -v grpc_tools_ruby_protoc >/dev/null 2>&1 || need="$need ruby-grpc ruby-grpc-tools"
command -v grpc_cpp_plugin >/dev/null 2>&1 || need="$need protobuf-compiler-grpc"
command -v etcd >/dev/null 2>&1 || need="$need etcd-server"
command -v unshare >/dev/null 2>&1 || need="$need util-linux"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
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

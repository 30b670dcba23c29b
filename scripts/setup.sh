#!/bin/sh
# setup.sh - installs the Debian packages tta needs, only those missing (checked with dpkg).
# Idempotent; takes well under a second when everything is present. Run by `make demo`,
# `make test` and `make bench` before anything else.
set -e

# libopenmpi-dev and openmpi-bin: the `tta` command is built with MPI when mpicc is there (the
# Makefile checks), and `make test` compares `mpirun -np 2` runs with single-process ones.
# With arguments: those packages instead (scripts/bench.sh installs Node and PyTorch so, and the
# Makefile clang and libFuzzer for `make fuzz` and the fuzz part of `make test`).
PACKAGES="gcc make libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata \
libdnnl-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libjansson-dev libmicrohttpd-dev dataset-fashion-mnist \
pkg-config curl libopenmpi-dev openmpi-bin"
[ $# -gt 0 ] && PACKAGES="$*"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
done

[ -z "$missing" ] && exit 0

echo "setup: installing missing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

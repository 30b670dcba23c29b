#!/bin/sh
# setup.sh - installs the Debian packages tta needs, only those missing (checked with dpkg).
# Idempotent; takes well under a second when everything is present. Run by `make demo`,
# `make test` and `make bench` before anything else.
set -e

# With arguments: those packages instead (scripts/bench.sh installs Node and PyTorch so, and the
# Makefile clang and libFuzzer for `make fuzz` and the fuzz part of `make test`).
PACKAGES="gcc make libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata \
libdnnl-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libjansson-dev libmicrohttpd-dev dataset-fashion-mnist \
pkg-config curl"
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

#!/bin/sh
# Install the Debian packages crosslink builds and tests with.
# Idempotent: installs only what dpkg does not already report as installed.
# Works as root or through sudo; otherwise says what to run and fails.
# clang builds the fuzz targets (make fuzz); on Debian 12 its libFuzzer and
# sanitizer runtimes are in libclang-rt-dev, only recommended by clang.
# clang-format is for make format.
set -eu

PKGS="build-essential pkg-config libssl-dev libsodium-dev libzmq3-dev \
libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libsqlite3-dev \
libutf8proc-dev libinih-dev libcjson-dev libreadstat-dev clang libclang-rt-dev clang-format \
readstat chromium-headless-shell fonts-dejavu-core python3 openssl"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
    SUDO="sudo"
else
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root or with sudo: apt-get install -y$missing" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found; install these packages by hand:$missing" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"

#!/bin/sh
# Installs the Debian packages libslate's build, tests and demo need.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: scripts/deps.sh            (everything: tests, fuzzing, wasm, controller)
set -eu

PACKAGES="cmake make gcc clang lld clang-format binutils pkgconf libcmocka-dev libxxhash-dev \
wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev \
libmicrohttpd-dev libgnutls28-dev openssl coinor-libclp-dev glpk-utils \
protobuf-compiler protobuf-c-compiler libprotobuf-c-dev nanopb libnanopb-dev \
nginx nginx-dev libpcre2-dev libssl-dev zlib1g-dev wrk python3 python3-yaml valgrind"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# The wasm test host needs Node.js 18 or newer; any install of it will do.
if ! command -v node >/dev/null 2>&1; then
    missing="$missing nodejs"
fi

if [ -z "$missing" ]; then
    exit 0
fi

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: run this as root, then run make again:" >&2
    echo "    sudo apt-get update && sudo $cmd" >&2
    exit 1
fi

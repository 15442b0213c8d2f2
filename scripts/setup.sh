#!/usr/bin/env bash
# Installs every build, test and demo dependency of Veil on Debian 12 (idempotent; needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libsodium-dev libgcrypt20-dev libsignal-protocol-c-dev libprotobuf-dev protobuf-compiler
      libuv1-dev libboost-test-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
      libmicrohttpd-dev libsystemd-dev libspdlog-dev prometheus systemd file
      librocksdb-dev libssl-dev openssl gnuplot-nox nodejs npm ca-certificates curl)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

have_node=false
command -v node >/dev/null && command -v npm >/dev/null && have_node=true
missing=()
for p in "${DEBS[@]}"; do
  # A node already on PATH (Debian's or another) is used as it is.
  if $have_node && { [ "$p" = nodejs ] || [ "$p" = npm ]; }; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The reference peer for interop tests and benchmarks, pinned by package-lock.json.
if [ ! -d scripts/node/node_modules/@signalapp/libsignal-client ]; then
  echo "setup: installing @signalapp/libsignal-client (npm ci)"
  (cd scripts/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

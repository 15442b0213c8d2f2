#!/usr/bin/env bash
# Installs what is missing, builds Veil, and runs the demo: relays of two providers and a mix on
# loopback carry real sealed-sender messages end to end and report what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target veil veil-relay veil-demo >/dev/null
exec build/proxy/demo/veil-demo "$@"

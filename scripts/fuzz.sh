#!/usr/bin/env bash
# The longer fuzz run: installs what is missing, builds every libFuzzer target (clang, ASan+UBSan)
# into build-fuzz/, and runs each for SECONDS (default 600) of one core over its committed corpus;
# fails if any target crashes (the crashing input is kept; tests/fuzz/run.sh prints where).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
if [[ ! "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
bash scripts/setup.sh
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVEIL_FUZZ=ON -DVEIL_TESTS=OFF -DVEIL_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"
exec bash tests/fuzz/run.sh build-fuzz "$seconds"

#!/usr/bin/env bash
# The soak: installs what is missing, builds Veil, and runs `veil-bench soak` (three real relays at
# half their measured capacity, crashes and reloads along the way) for MINUTES (default 30), writing
# samples.csv and summary.md under soak-results/. Extra arguments go to veil-bench soak.
# Usage: scripts/soak.sh [MINUTES] [veil-bench soak options...]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=30
if [[ $# -gt 0 && "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  minutes=$1
  shift
fi
bash scripts/setup.sh
bash scripts/build.sh
# Bounded: the soak, its probe, the final drain and start-up, with room to spare.
limit=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 600 }')
exec timeout --signal=TERM --kill-after=30 "$limit" build/bench/veil-bench soak --minutes "$minutes" "$@"

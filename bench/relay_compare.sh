#!/usr/bin/env bash
# Runs the relay benchmark of two builds side by side, alternating, so both see the same machine:
# sidecar throughput on 2 cores, unwrap share of the X25519 bound on 2 cores, and added latency.
# Usage: bench/relay_compare.sh OLD_BUILD NEW_BUILD [ROUNDS] [SECONDS] [MODES]
#   MODES: any of "sidecar unwrap latency" (default: all three), as one argument.
#   Each build dir must hold bench/veil-bench and proxy/relay/veil-relay (each bench drives its
#   own build's relay). Prints each run's summary lines, then the medians and new/old ratios.
set -uo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 OLD_BUILD NEW_BUILD [ROUNDS] [SECONDS] [MODES]" >&2
  exit 2
fi
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
rounds=${3:-3}
seconds=${4:-5}
modes=${5:-sidecar unwrap latency}
out=$(mktemp -d "${TMPDIR:-/tmp}/veil-relay-compare.XXXXXX")

run() {  # side mode round
  local side=$1 mode=$2 round=$3 dir
  [[ $side == old ]] && dir=$old || dir=$new
  VEIL_RELAY_BIN=$dir/proxy/relay/veil-relay timeout 300 \
    "$dir/bench/veil-bench" relay --mode "$mode" --cores 2 --seconds "$seconds" \
    >"$out/$mode.$side.$round.log" 2>&1
  echo "$side round $round: $(grep -E '^\{' "$out/$mode.$side.$round.log" | tail -1)"
}

# The value of JSON field $1 in the last JSON line of each log given.
field() {
  local name=$1; shift
  for f in "$@"; do grep -E '^\{' "$f" | tail -1 | grep -oE "\"$name\":[0-9.]+" | cut -d: -f2; done
}
median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

for round in $(seq 1 "$rounds"); do
  for mode in $modes; do
    # Alternate which side goes first from round to round.
    if (( round % 2 )); then run old "$mode" "$round"; run new "$mode" "$round"
    else run new "$mode" "$round"; run old "$mode" "$round"; fi
  done
done
echo
printf '%-34s %12s %12s %8s\n' "median of $rounds rounds" old new new/old
for spec in "sidecar msgs_per_s" "unwrap msgs_per_s" "unwrap fraction_of_bound" "latency p50_us" "latency p99_us"; do
  set -- $spec
  [[ " $modes " == *" $1 "* ]] || continue
  o=$(field "$2" "$out/$1".old.*.log | median)
  n=$(field "$2" "$out/$1".new.*.log | median)
  printf '%-34s %12s %12s %8s\n' "$1 $2" "$o" "$n" "$(awk -v a="$o" -v b="$n" 'BEGIN {printf "%.3f", b / a}')"
done
echo "logs: $out"

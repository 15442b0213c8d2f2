#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time over a scratch copy of its seed corpus; fails if any target crashes.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET   (BUILD_DIR configured with -DVEIL_FUZZ=ON, clang)
set -uo pipefail

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets=(fuzz_sender_certificate fuzz_message_content fuzz_sealed_v1 fuzz_sent_message
         fuzz_received_v2 fuzz_unpad fuzz_service_id fuzz_packet_unwrap fuzz_relay_input fuzz_link_frame
         fuzz_tls_inbound fuzz_directory fuzz_descriptor fuzz_config)

# UBSan recovers by default; make every report fatal so libFuzzer records it as a crash.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/veil-fuzz.XXXXXX")
failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/tests/$t
  if [[ ! -x $bin ]]; then
    summary+=("$(printf '%-26s MISSING  %s not built' "$t" "$bin")")
    failed=1
    continue
  fi
  work=$scratch/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$here/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
  seeds=$(find "$work/corpus" -type f | wc -l)
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
  units=$(find "$work/corpus" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    summary+=("$(printf '%-26s ok       %8s execs  cov %-5s corpus %3s -> %s' "$t" "${execs:-?}" "${cov:-?}" "$seeds" "$units")")
  else
    failed=1
    artifact=$(find "$work/artifacts" -type f | head -1)
    summary+=("$(printf '%-26s CRASH    exit %s  artifact %s  log %s' "$t" "$rc" "${artifact:-none}" "$work/log")")
    echo "---- $t (exit $rc), last lines of $work/log:" >&2
    tail -n 40 "$work/log" >&2
  fi
done

printf '%s\n' "${summary[@]}"
if [[ $failed -eq 0 ]]; then
  rm -rf "$scratch"
  echo "all ${#targets[@]} fuzz targets ran ${seconds}s without a crash"
else
  echo "fuzzing found problems; inputs and logs kept in $scratch" >&2
fi
exit $failed

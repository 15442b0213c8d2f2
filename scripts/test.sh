#!/usr/bin/env bash
# Installs what is missing, checks the include layering, builds Veil, and runs every test: unit
# (crypto, mix, packets, config, metrics), the journal store, the in-process relay suite, the TLS link
# suite, interop against libsignal-client, relay integration (admin endpoint, reload, sd_notify
# included), privacy suite, the Debian package (cpack, unpacked, systemd-analyze verify), a sanitizer
# (ASan+UBSan) pass, the in-process relay suite under ThreadSanitizer, and a short timed run of every
# fuzz target. Prints one closing line: "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${VEIL_FUZZ_SECONDS:-15}
jobs=$(nproc)

bash scripts/setup.sh || exit 1

passed=0
failed=0
count_ctest() {  # reads ctest's log, adds its totals
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  local total bad
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

logs=$(mktemp -d "${TMPDIR:-/tmp}/veil-test.XXXXXX")

echo "== layering: includes point down (scripts/check_includes.sh)"
if bash scripts/check_includes.sh .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== build (RelWithDebInfo, warnings as errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVEIL_WERROR=ON >/dev/null &&
  cmake --build build -j"$jobs" >"$logs/build.log" 2>&1 ||
  { tail -50 "$logs/build.log"; echo "${passed} passed, $((failed + 1)) failed"; exit 1; }

echo "== tests: lint, unit, journal store, in-process relay, TLS link, interop, integration, privacy"
(cd build && ctest -j1 --output-on-failure --timeout 300) 2>&1 | tee "$logs/ctest.log"
count_ctest "$logs/ctest.log"

echo "== sanitizers: ASan+UBSan build, unit, journal store, in-process relay, TLS link, CLI and integration tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVEIL_SANITIZE=ON -DVEIL_BENCH=OFF >/dev/null &&
  cmake --build build-asan -j"$jobs" >"$logs/build-asan.log" 2>&1 || { tail -50 "$logs/build-asan.log"; failed=$((failed + 1)); }
if [ -x build-asan/tests/veil_unit_tests ]; then
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ctest -j1 --output-on-failure --timeout 600 -R '^(unit|store|relay|tls|cli|integration)\.') 2>&1 | tee "$logs/ctest-asan.log"
  count_ctest "$logs/ctest-asan.log"
fi

echo "== ThreadSanitizer: the in-process relay suite and the admin server (unit.admin_server)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DVEIL_TSAN=ON -DVEIL_BENCH=OFF >/dev/null &&
  cmake --build build-tsan -j"$jobs" --target veil_relay_tests veil_unit_tests >"$logs/build-tsan.log" 2>&1 ||
  { tail -50 "$logs/build-tsan.log"; failed=$((failed + 1)); }
if [ -x build-tsan/tests/relay/veil_relay_tests ]; then
  (cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
     ctest -j1 --output-on-failure --timeout 600 -R '^(relay\.|unit\.admin_server$)') 2>&1 | tee "$logs/ctest-tsan.log"
  count_ctest "$logs/ctest-tsan.log"
fi

echo "== fuzz: every parser for ${FUZZ_SECONDS}s (clang, libFuzzer, ASan+UBSan)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVEIL_FUZZ=ON -DVEIL_TESTS=OFF -DVEIL_BENCH=OFF >/dev/null &&
  cmake --build build-fuzz -j"$jobs" >"$logs/build-fuzz.log" 2>&1 || { tail -50 "$logs/build-fuzz.log"; failed=$((failed + 1)); }
if bash tests/fuzz/run.sh build-fuzz "$FUZZ_SECONDS"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

rm -rf "$logs"
echo
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs the sealed-sender benchmarks of Veil and of libsignal-client (node) side by side in one run
# and prints a Markdown table with the ratio. Usage: bench/crypto_compare.sh [--quick] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick="--quick"; shift; fi
build=${1:-build}
out=$(mktemp -d "${TMPDIR:-/tmp}/veil-crypto-bench.XXXXXX")
echo "running libsignal-client (node) ..." >&2
node bench/node/libsignal_bench.mjs $quick > "$out/libsignal.jsonl"
echo "running veil ..." >&2
"$build/bench/veil-bench" crypto $quick > "$out/veil.jsonl"
node bench/crypto_table.mjs "$out/veil.jsonl" "$out/libsignal.jsonl"
rm -rf "$out"

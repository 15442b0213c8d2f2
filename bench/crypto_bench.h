// Sealed-sender micro-benchmarks matching bench/node/libsignal_bench.mjs operation by operation.
#pragma once

#include <cstddef>
#include <string>

namespace veil::bench {

struct CryptoBenchOptions {
  bool quick = false;
  std::size_t content_bytes = 256;
  std::string only;  // run only operations whose name starts with this
};

// Prints one JSON line per operation; returns non-zero if a correctness check fails.
int run_crypto_bench(const CryptoBenchOptions& options);

}  // namespace veil::bench

// Relay throughput benchmark: sustained zero-loss messages/s through one real veil-relay process
// in sidecar mode (submit -> pairwise layer -> peer) and in unwrap mode (onion layer -> peer),
// on 1 or 2 cores, with the X25519 bound, the relay's own added latency and memory per pooled packet.
#pragma once

#include <string>

namespace veil::bench {

struct ThroughputOptions {
  std::string mode = "all";  // sidecar | unwrap | latency | memory | all
  int cores = 0;             // pin the relay to this many cores (0 = 1 and 2)
  double seconds = 5;        // measured phase per point
  bool quick = false;
};

// Prints one JSON line per measurement; returns non-zero if a run lost packets.
int run_throughput_bench(const ThroughputOptions& options);

}  // namespace veil::bench

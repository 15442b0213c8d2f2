// A threshold (batch) mix under observation: relay-alpha pools k packets per flush (no covers,
// mix_hops 0, so alpha -> beta directly); the test submits one batch at a time, timestamps every
// input at send, taps alpha's egress link, and recovers the ground truth of every output by
// peeling the captured packet with beta's key (the pairwise layer alpha -> beta).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stats.h"

namespace veil::privacy {

struct ThresholdRun {
  std::vector<stats::Flush> flushes;  // per flush: output j came from batch input position flush[j]
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  std::size_t candidate_mismatches = 0;  // flushes whose timing-derived batch was not k inputs
  std::size_t outside_batch = 0;         // outputs whose true input lay outside their batch
  std::size_t unpeeled = 0;              // captured packets without a known input
  double mean_flush_spread_us = 0;       // first to last output of a flush, on the wire
  double seconds = 0;
};

// Runs `batches` flushes of a k-threshold mix. Deliveries and relays are checked on the way
// (BOOST_REQUIRE); the adversary's view and the ground truth come back for analysis.
ThresholdRun run_threshold_mix(int k, std::size_t batches, uint64_t seed);

}  // namespace veil::privacy

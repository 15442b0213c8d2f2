// The "ideal" expectation of a point: the same mix strategy (proxy/relay/core/mix.h) driven in virtual
// time by the run's own input times plus Poisson covers, with zero processing and link delay.
#pragma once

#include <cstdint>

#include "bench/privacy/anonymity.h"
#include "proxy/relay/core/mix.h"

namespace veil::bench::privacy {

// Outputs of an ideal relay for `inputs` (their times and ids are taken from the measured trace);
// covers at `cover_rate`/s from 0 until `end`; every release leaves 1 µs after its deadline.
Trace ideal_trace(const relay::MixConfig& mix, const std::vector<InputEvent>& inputs,
                  double cover_rate, double end, uint64_t seed);

}  // namespace veil::bench::privacy

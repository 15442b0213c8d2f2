// Ideal-relay simulation for the privacy bench: the relay's own Mix in virtual time.
#include "bench/privacy/ideal.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace veil::bench::privacy {

Trace ideal_trace(const relay::MixConfig& mix_config, const std::vector<InputEvent>& inputs,
                  double cover_rate, double end, uint64_t seed) {
  using veil::Micros;
  SeededRng rng(seed);
  SeededRng cover_rng(seed ^ 0x5bd1e995ULL);
  auto made = relay::make_mix(mix_config, rng);
  if (!made) throw std::runtime_error("ideal: mix parameters out of range");
  relay::Mix& mix = **made;
  Trace t;
  t.inputs = inputs;
  auto us = [](double s) { return static_cast<Micros>(std::llround(s * 1e6)); };
  const Micros end_us = us(end);
  // Cover arrivals (ids ≥ 2^62 mark covers).
  constexpr uint64_t kCover = 1ULL << 62;
  double next_cover = cover_rate > 0 ? -std::log(1.0 - cover_rng.unit()) / cover_rate
                                     : std::numeric_limits<double>::infinity();
  std::size_t next_in = 0;
  uint64_t cover_id = kCover;
  for (;;) {
    const Micros t_in = next_in < inputs.size() ? us(inputs[next_in].t) : veil::kNever;
    const Micros t_cover = std::isfinite(next_cover) && next_cover < end ? us(next_cover) : veil::kNever;
    const Micros t_arrival = std::min(t_in, t_cover);
    const Micros deadline = mix.next_deadline();
    if (deadline != veil::kNever && deadline <= t_arrival && deadline <= end_us) {
      const std::vector<uint64_t> out = mix.release(deadline);
      if (out.empty() && mix.next_deadline() == deadline) break;  // a mix that never moves on
      for (uint64_t id : out) {
        OutputEvent o;
        o.t = static_cast<double>(deadline + 1) / 1e6;
        o.msg = id >= kCover ? -1 : static_cast<int64_t>(id);
        t.outputs.push_back(o);
      }
      continue;
    }
    if (t_arrival == veil::kNever || t_arrival > end_us) break;
    if (t_in <= t_cover) {
      mix.add(inputs[next_in].msg, t_in);
      ++next_in;
    } else {
      mix.add(cover_id++, t_cover);
      next_cover += -std::log(1.0 - cover_rng.unit()) / cover_rate;
    }
  }
  return t;
}

}  // namespace veil::bench::privacy

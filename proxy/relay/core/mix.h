// Mix pools: hold opaque packet ids and release them under a batching strategy, in random order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/rng.h"
#include "base/clock.h"

namespace veil::relay {

struct MixConfig {
  enum class Strategy { none, threshold, timed, threshold_or_timed, binomial, poisson };
  Strategy strategy = Strategy::poisson;
  std::size_t threshold = 10;   // threshold, threshold_or_timed: flush when this many are pooled
  Micros interval = 100'000;    // timed, threshold_or_timed, binomial: flush period
  double probability = 0.5;     // binomial: each pooled packet leaves at a tick w.p. p
  std::size_t min_pool = 0;     // binomial: never let the pool fall below this many (they stay)
  Micros mean_delay = 200'000;  // poisson: per-packet Exp(mean) delay; 0 = forward at once
};

// "none", "threshold", "timed", "threshold_or_timed", "binomial" or "poisson".
const char* strategy_name(MixConfig::Strategy s) noexcept;
// The strategy named `name` (as strategy_name spells it); invalid_argument otherwise.
Result<MixConfig::Strategy> parse_strategy(std::string_view name);

// A pool of packet ids. Not thread-safe; time is passed in, never read.
//
// Strategies (t0 = time of the first add):
//  none                release everything at once (next_deadline = the oldest pending add time).
//  threshold           once size() ≥ threshold, the next release() flushes the whole pool.
//  timed               at t0 + k·interval (fixed schedule) flush the whole pool.
//  threshold_or_timed  flush the whole pool when size() ≥ threshold or when the timer expires;
//                      the timer restarts at every flush (a timer flush keeps the period phase,
//                      a threshold flush restarts the period at that release).
//  binomial            at t0 + k·interval every pooled packet leaves independently w.p.
//                      probability, but at least min_pool stay (survivors chosen uniformly).
//  poisson             each packet is due at its add time + Exp(mean_delay); released in due
//                      order (ties in random order).
// A release() late by more than one period still performs one flush/round, then resumes the
// schedule at the first tick after `now`.
class Mix {
 public:
  virtual ~Mix() = default;
  // A packet enters the pool at `now` (times passed to add/restore/release must not decrease).
  // Returns the release time the strategy fixed for it (poisson), or kNever when the pool rule
  // decides (every other strategy): the relay journals it so that a restart keeps the schedule.
  virtual Micros add(uint64_t id, Micros now) = 0;
  // A packet that was in the pool before a restart comes back at `now`. `due` is what add()
  // returned then (kNever: none). A `due` already past becomes `now`, so every packet whose time
  // passed while the relay was down leaves at the next release(), in random order; a later `due`
  // is kept exactly. Without a `due`, the packet joins the pool as add() would, except that a
  // tick schedule resumed by resume_ticks() is kept as it is.
  virtual void restore(uint64_t id, Micros due, Micros now) = 0;
  // The next point of the tick schedule (timed, threshold_or_timed, binomial); kNever when the
  // strategy has none or it has not started.
  virtual Micros next_tick() const { return kNever; }
  // Continues, at `now`, the tick schedule that had a point at `tick` (next_tick() of the run
  // before a restart, in this run's time): the next point is the first tick + k·interval ≥ now,
  // so a restart neither flushes the pool nor moves the schedule's phase. Call before restore().
  // No effect for strategies without a schedule.
  virtual void resume_ticks(Micros tick, Micros now) { (void)tick, (void)now; }
  // The packets due at `now`, in output order (uniformly random within one flush).
  virtual std::vector<uint64_t> release(Micros now) = 0;
  // The earliest time release() may return something; kNever if only an arrival can change that.
  virtual Micros next_deadline() const = 0;
  virtual std::size_t size() const = 0;
  // Empties the pool (shutdown): every remaining id, in uniformly random order.
  virtual std::vector<uint64_t> drain() = 0;
};

// The parameters of `config` that its strategy uses and that are out of range, one line each,
// named as the config keys are ("threshold: must be at least 1 for strategy threshold"); empty
// when make_mix accepts `config`. Rules: threshold ≥ 1 (threshold, threshold_or_timed),
// interval > 0 (timed, threshold_or_timed, binomial), 0 < probability ≤ 1 (binomial),
// mean_delay ≥ 0 (poisson), and a known strategy.
std::vector<std::string> validate_mix(const MixConfig& config);

// A mix for `config`; invalid_argument unless validate_mix(config) is empty.
// `rng` must outlive the mix; it drives output order, binomial rounds and Poisson delays (drawn
// 512 bytes at a time: the mix holds up to that much not-yet-used randomness).
Result<std::unique_ptr<Mix>> make_mix(const MixConfig& config, Rng& rng);

// Shuffles `ids` into a uniformly random permutation (Fisher–Yates, unbiased rejection sampling).
void shuffle_ids(std::vector<uint64_t>& ids, Rng& rng);

// A draw from Exp(mean) in microseconds (inverse CDF, −mean·ln(1−u)), rounded, saturating.
Micros exponential_delay(Micros mean, Rng& rng);

}  // namespace veil::relay

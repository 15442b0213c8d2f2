// Cover traffic: Poisson event schedules for drop/loop covers, and loop tracking for n-1 detection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "base/error.h"
#include "base/rng.h"
#include "base/clock.h"

namespace veil::relay {

// The event times of a Poisson process: independent Exp(1/rate) gaps after `start`.
// Gaps are accumulated exactly (in double) and rounded only when reported, so the mean rate has
// no rounding bias. `rng` must outlive the schedule.
class PoissonSchedule {
 public:
  // rate_per_s ≥ 0 and finite; 0 (or anything invalid) means no event ever: next() == kNever.
  // Use make() to have a bad rate rejected instead.
  PoissonSchedule(double rate_per_s, Rng& rng, Micros start);
  // As the constructor; invalid_argument for a negative, NaN or infinite rate.
  static Result<PoissonSchedule> make(double rate_per_s, Rng& rng, Micros start);

  // The time of the next event (> start unless a gap rounds to zero); kNever if the rate is 0.
  Micros next() const { return next_; }
  // Moves to the event after next().
  void advance();

 private:
  void draw();
  double mean_gap_us_;  // 0 = never
  Rng* rng_;
  Micros start_;
  double offset_us_ = 0;  // exact time of next() since start_
  Micros next_ = kNever;
};

// Aggregates over the sliding window of a LoopTracker. Only counts and quantiles: never ids or
// per-loop times.
struct LoopStats {
  uint64_t sent = 0;          // loops sent within the window
  uint64_t returned = 0;      // loops returned within the window
  uint64_t lost = 0;          // loops declared lost (timed out) within the window
  double loss_ratio = 0;      // lost / (returned + lost); 0 when nothing resolved
  Micros latency_p50 = 0;     // nearest-rank quantiles of the window's round trips; 0 if none
  Micros latency_p99 = 0;
  std::size_t outstanding = 0;  // loops sent and not yet returned or lost (any age)
  uint64_t unmatched = 0;       // returns of unknown, duplicate or already-lost ids (all time)
  uint64_t lost_total = 0;      // loops declared lost (all time)
};

// Loop cover bookkeeping (Loopix §4.2.1): a relay sends loop packets through the
// network back to itself; losses or delays beyond the normal ones indicate an n-1 / blocking
// attack. Every call takes the current time and slides the window (times must not decrease).
class LoopTracker {
 public:
  // A loop not back within `timeout` is lost; stats cover events of the last `window`.
  LoopTracker(Micros timeout, Micros window);

  // Records loop `id` sent at `now`; false (and nothing recorded) if `id` is still outstanding.
  bool sent(uint64_t id, Micros now);
  // Matches a returned loop: its round-trip latency, or nullopt for an unknown id, a duplicate
  // return, or a loop already declared lost (counted in `unmatched`).
  std::optional<Micros> returned(uint64_t id, Micros now);
  // Declares loops sent at or before now − timeout lost, and drops window events older than
  // now − window. sent() and returned() call it too.
  void expire(Micros now);

  // The window's aggregates as of the latest time passed in.
  LoopStats stats() const;
  // True if the window has at least one resolved loop and its loss ratio exceeds
  // `loss_threshold` or its p99 latency exceeds `latency_threshold`.
  bool alarm(double loss_threshold, Micros latency_threshold) const;

 private:
  struct Event {
    Micros at;
    enum class Kind : uint8_t { sent, returned, lost } kind;
    Micros latency;  // returned only
  };
  void record(Micros at, Event::Kind kind, Micros latency);

  Micros timeout_;
  Micros window_;
  std::unordered_map<uint64_t, Micros> outstanding_;  // id -> send time
  std::deque<std::pair<Micros, uint64_t>> by_age_;    // (send time, id), oldest first
  std::deque<Event> events_;                           // window events, oldest first
  uint64_t sent_ = 0, returned_ = 0, lost_ = 0;        // counts of events_ by kind
  uint64_t lost_total_ = 0;                              // losses ever declared
  uint64_t unmatched_ = 0;
};

}  // namespace veil::relay

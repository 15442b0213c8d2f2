// Injected monotonic time for the relay: an abstract Clock and a hand-driven ManualClock for tests.
#pragma once

#include <cstdint>
#include <limits>

namespace veil::relay {

// Microseconds on a monotonic axis (the origin is arbitrary; only differences matter).
using Micros = int64_t;

// "No deadline": a time later than any real one.
inline constexpr Micros kNever = std::numeric_limits<Micros>::max();

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time; never decreases between calls.
  virtual Micros now() const = 0;
};

// A clock that moves only when told to. Tests use it so that every time is exact.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start = 0) : now_(start) {}
  Micros now() const override { return now_; }
  // Jumps to `t`; a `t` earlier than now() is ignored (the clock is monotonic).
  void set(Micros t) {
    if (t > now_) now_ = t;
  }
  // Moves forward by `d` ≥ 0; a negative `d` is ignored.
  void advance(Micros d) {
    if (d > 0) now_ += d;
  }

 private:
  Micros now_;
};

}  // namespace veil::relay

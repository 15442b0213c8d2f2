// Injected time: one Clock gives monotonic time, wall time and timers; ManualClock drives tests.
//
// Every time-dependent part of the relay reads the time and sets its timers through one Clock, so
// a test that moves a ManualClock fires exactly the timers that are due, in due order, and sees
// the same times the relay saw (Envoy's TimeSystem shape: the object that tells the time also
// schedules). Not thread-safe: one loop thread uses a Clock and its timers.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>

namespace veil {

// Microseconds on a monotonic axis (the origin is arbitrary; only differences matter).
using Micros = int64_t;

// "No deadline": a time later than any real one.
inline constexpr Micros kNever = std::numeric_limits<Micros>::max();

// A one-shot timer created by a Clock. Destroying it cancels it.
class Timer {
 public:
  virtual ~Timer() = default;
  // Fires the callback once at `deadline` (monotonic µs; a deadline ≤ now fires on the next turn
  // of the loop). Re-arming replaces the previous deadline.
  virtual void arm_at(Micros deadline) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time in µs; never decreases between calls.
  virtual Micros now() const = 0;
  // Wall-clock microseconds since the Unix epoch (coarse delivery timestamps, and times kept in
  // the journal across restarts); may jump either way when the system clock is set.
  virtual int64_t wall_us() const = 0;
  int64_t wall_ms() const { return wall_us() / 1000; }
  // A timer that calls `fire` on the loop thread when due. The callback may re-arm or cancel the
  // timer but must not destroy it. The clock must outlive its timers.
  virtual std::unique_ptr<Timer> timer(std::function<void()> fire) = 0;
};

// A clock that moves only when told to; its timers fire inside advance()/set(), in deadline order
// (ties in arming order), each with now() equal to its deadline. Tests use it so that every time
// is exact.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start = 0, int64_t wall_start_ms = 1'700'000'000'000)
      : now_(start), wall_origin_us_(wall_start_ms * 1000 - start) {}
  ~ManualClock() override;
  Micros now() const override { return now_; }
  int64_t wall_us() const override { return wall_origin_us_ + now_; }
  std::unique_ptr<Timer> timer(std::function<void()> fire) override;

  // Moves to `t`, firing every timer due at or before `t`; a `t` earlier than now() only fires
  // what is already due. `between` (if set) runs after each timer fired, before the next one is
  // considered: an in-process world uses it to let the consequences of one timer settle.
  void set(Micros t, const std::function<void()>& between = nullptr);
  // Moves forward by `d` ≥ 0 (a negative `d` counts as 0), firing what falls due.
  void advance(Micros d, const std::function<void()>& between = nullptr) {
    set(now_ + (d > 0 ? d : 0), between);
  }
  // The earliest armed deadline, kNever if none.
  Micros next_deadline() const;
  // Timers currently armed.
  std::size_t armed_timers() const { return due_.size(); }

 private:
  class ManualTimer;
  friend class ManualTimer;
  Micros now_;
  int64_t wall_origin_us_;
  uint64_t next_order_ = 0;
  std::multimap<std::pair<Micros, uint64_t>, ManualTimer*> due_;  // (deadline, arming order)
};

}  // namespace veil

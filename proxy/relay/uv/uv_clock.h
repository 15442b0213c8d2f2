// The production Clock: monotonic time from libuv's high-resolution timer, wall time from the
// system clock, timers on the libuv loop (millisecond resolution, rounded up).
#pragma once

#include <uv.h>

#include "base/clock.h"

namespace veil::relay {

class UvClock final : public Clock {
 public:
  explicit UvClock(uv_loop_t* loop) : loop_(loop) {}
  Micros now() const override { return static_cast<Micros>(uv_hrtime() / 1000); }
  int64_t wall_us() const override;
  std::unique_ptr<Timer> timer(std::function<void()> fire) override;

 private:
  uv_loop_t* loop_;
};

}  // namespace veil::relay

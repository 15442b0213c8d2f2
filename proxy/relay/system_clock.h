// The production clocks: monotonic time from libuv's high-resolution timer, wall time in ms.
#pragma once

#include <uv.h>

#include <chrono>

#include "base/clock.h"

namespace veil::relay {

class SystemClock final : public Clock {
 public:
  Micros now() const override { return static_cast<Micros>(uv_hrtime() / 1000); }
  int64_t wall_ms() const override;
  std::unique_ptr<Timer> timer(std::function<void()>) override { return nullptr; }
};

// Milliseconds since the Unix epoch, for the quantized server timestamp on deliveries.
inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t SystemClock::wall_ms() const { return wall_clock_ms(); }

}  // namespace veil::relay

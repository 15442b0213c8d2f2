// The production clocks: monotonic time from libuv's high-resolution timer, wall time in ms.
#pragma once

#include <uv.h>

#include <chrono>

#include "proxy/relay/clock.h"

namespace veil::relay {

class SystemClock final : public Clock {
 public:
  Micros now() const override { return static_cast<Micros>(uv_hrtime() / 1000); }
};

// Milliseconds since the Unix epoch, for the quantized server timestamp on deliveries.
inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace veil::relay

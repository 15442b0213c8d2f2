// The seam for durability under the mix: every accepted packet is recorded before the submitter
// hears "accepted", and forgotten once the next hop acknowledged it.
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace veil::relay {

class Journal {
 public:
  virtual ~Journal() = default;
  // Records a packet that entered the relay; returns only once it is as durable as the
  // implementation promises.
  virtual void record(uint64_t item, ByteView packet) = 0;
  // The next hop acknowledged the packet: it may be forgotten.
  virtual void forget(uint64_t item) = 0;
};

// Keeps nothing beyond process memory (the mix pool and link queues hold the packets): a crash
// loses what was in flight. The on-disk journal replaces this behind the same interface.
class MemoryJournal final : public Journal {
 public:
  void record(uint64_t, ByteView) override {}
  void forget(uint64_t) override {}
};

}  // namespace veil::relay

// Epoch keys over time: which epoch is current, which of this relay's keys a layer's epoch bit
// names, and when a key comes in and is wiped (docs/packet-format.md, "Epochs").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "crypto/keys.h"
#include "crypto/packet_layer.h"

namespace veil::relay {

// The epoch schedule as the relay runs it. Epoch t covers wall time
// [genesis + t·length, genesis + (t+1)·length), in µs since the Unix epoch. length 0 is one fixed
// epoch (`fixed`) that never changes.
struct EpochTiming {
  int64_t genesis = 0;  // wall µs
  Micros length = 0;    // µs; 0: the fixed epoch only
  Micros overlap = 0;   // how long after a switch the previous epoch's key is kept; ≤ length / 2
  uint64_t fixed = 0;   // the epoch when length is 0
};

// The epoch at wall time `now` (µs); epoch 0 before genesis; `fixed` when length is 0.
uint64_t epoch_at(const EpochTiming& t, int64_t now);
// The wall µs at which epoch `e` begins (genesis for the fixed schedule).
int64_t epoch_start(const EpochTiming& t, uint64_t e);

// Where this relay's private epoch keys come from (the daemon: its key directory; tests: memory).
class EpochKeySource {
 public:
  virtual ~EpochKeySource() = default;
  // This relay's key pair for `epoch`, or nullopt if it has none.
  virtual std::optional<crypto::KeyPair> key(uint64_t epoch) = 0;
  // Every epoch before `epoch` is over for good: the source may destroy those keys.
  virtual void wipe_before(uint64_t epoch) = 0;
};

// Keys held in memory, by epoch (tests, the simulation, and the single-key config).
class MemoryEpochKeys final : public EpochKeySource {
 public:
  void add(uint64_t epoch, const crypto::KeyPair& key);
  std::optional<crypto::KeyPair> key(uint64_t epoch) override;
  void wipe_before(uint64_t epoch) override;
  std::size_t size() const { return keys_.size(); }

 private:
  std::map<uint64_t, crypto::KeyPair> keys_;
};

// This relay's keys at one moment, immutable once built: work on workers holds a shared_ptr to
// the view it started with, so a key wiped on the loop stays valid until that work is done.
struct EpochView {
  uint64_t current = 0;
  int64_t current_start = 0;  // wall µs
  int64_t made_at = 0;        // wall µs: the time the view is of
  EpochTiming timing;
  std::map<uint64_t, std::shared_ptr<const crypto::KeyPair>> keys;  // the held epochs

  // The epoch a layer whose head carries `parity` is under, at wall time `now`: the current
  // epoch for its parity; otherwise the previous epoch in the first half of the current one and
  // the next in the second half (fixed schedule: none). The key may not be held.
  std::optional<uint64_t> epoch_of_parity(unsigned parity, int64_t now) const;
  // The key for `epoch`, or null if not held.
  const crypto::KeyPair* key(uint64_t epoch) const;
};

// Builds the view of wall time `now`: the current and next epochs' keys, and the previous one's
// during the overlap. Keys come from `previous` when held there, else from `source` (epochs the
// source has no key for are left out). Throws nothing.
std::shared_ptr<const EpochView> make_epoch_view(const EpochTiming& timing, int64_t now,
                                                 const EpochView* previous, EpochKeySource& source);

// The wall µs of the next change of the held set after `now` (a switch, or the end of the
// overlap); INT64_MAX for the fixed schedule.
int64_t next_epoch_change(const EpochTiming& timing, int64_t now);

}  // namespace veil::relay

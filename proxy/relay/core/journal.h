// The durability seam: what the relay has accepted is recorded before anyone is told so, and
// recovered at start.
//
// Four kinds of entries:
//  - packets inside the relay (mix pool and link queues), each with the relay id of its next hop
//    and its release time;
//  - deliveries not yet acknowledged by the messenger server;
//  - replay tags, per epoch, so that a packet seen before a restart is still refused after it;
//  - the relay's checkpoint (next delivery id, the mix's next tick): the latest one wins.
// The relay records and forgets freely, then calls commit(); it answers a submitter (ACCEPTED),
// acknowledges a peer's packets, sends a packet on a link and hands a delivery to the messenger
// server only inside the commit callback of the commit that covers it, so an implementation may
// make a whole batch durable at once (one sync per group, not per packet). Loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "base/bytes.h"
#include "base/clock.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/histogram.h"

namespace veil::relay {

// Wall-clock time in microseconds since the Unix epoch: what the journal stores for times, since
// the monotonic clock starts again with each process. kNoWallTime: none.
using WallMicros = int64_t;
inline constexpr WallMicros kNoWallTime = INT64_MIN;

using ReplayTag = crypto::ReplayTag;  // 16 bytes

// Relay-wide values that must outlive a run.
struct JournalCheckpoint {
  uint64_t next_delivery_id = 1;         // every delivery id below it was used (never reuse)
  WallMicros mix_next_tick = kNoWallTime;  // the tick schedule of timed strategies; kNoWallTime: none
};

// A packet found at recovery.
struct RecoveredPacket {
  uint64_t item = 0;
  crypto::RelayId next_hop{};
  WallMicros release_at = kNoWallTime;  // kNoWallTime: when the strategy's pool rule says
  Bytes packet;
};

// What the journal has done, for metrics. Monotonic counters except `failing`.
struct JournalStats {
  uint64_t syncs = 0;          // group commits made durable
  uint64_t bytes_written = 0;  // bytes handed to the store by those commits
  uint64_t write_errors = 0;   // failed group commits (each is retried until it succeeds)
  uint64_t sync_micros = 0;    // total time spent in successful group commits
  Histogram sync_us;           // the time of each successful group commit, µs
  bool failing = false;        // the last write failed and no write succeeded since
};

class Journal {
 public:
  struct RecoverFns {
    std::function<void(RecoveredPacket&&)> packet;             // in item order
    std::function<void(uint64_t delivery_id, Bytes delivery)> delivery;  // in id order
    std::function<void(uint64_t epoch, const ReplayTag& tag)> replay_tag;
  };
  virtual ~Journal() = default;

  // A packet entered the relay, bound for `next_hop`, due to leave the mix at `release_at`
  // (kNoWallTime: when the strategy's pool rule says, or not known yet); `item` ≠ 0 and unique
  // among live items. `packet` is the exact byte string to put on the link.
  virtual void record(uint64_t item, const crypto::RelayId& next_hop, WallMicros release_at,
                      ByteView packet) = 0;
  // The release time the mix gave a recorded packet once it was durable (replaces release_at).
  virtual void record_release(uint64_t item, WallMicros release_at) = 0;
  // The next hop acknowledged the packet (or it was dropped): it may be forgotten. 0 is ignored.
  virtual void forget(uint64_t item) = 0;
  // A delivery (a serialized relay.Delivery) waits for the messenger server's acknowledgement.
  virtual void record_delivery(uint64_t delivery_id, ByteView delivery) = 0;
  // The messenger server acknowledged it.
  virtual void forget_delivery(uint64_t delivery_id) = 0;
  // A fresh replay tag accepted under `epoch`.
  virtual void record_replay_tag(uint64_t epoch, const ReplayTag& tag) = 0;
  // Every replay tag of an epoch below `epoch` may go (those epochs' keys are gone).
  virtual void forget_replay_epochs_before(uint64_t epoch) = 0;
  // The checkpoint to keep with the next commit (replaces the previous one).
  virtual void record_checkpoint(const JournalCheckpoint& checkpoint) = 0;
  // Group commit: `durable` runs on the loop thread once every call made before this one is as
  // durable as the implementation promises (possibly before commit returns). Callbacks run in the
  // order of the commit calls. After a failed write the journal keeps everything and retries by
  // itself; the callbacks wait until a write succeeds (failing() says so meanwhile).
  virtual void commit(std::function<void()> durable) = 0;
  // True from a failed write until a write succeeds: the relay accepts nothing new meanwhile.
  virtual bool failing() const { return false; }
  virtual JournalStats stats() const { return {}; }
  // At start, before any traffic: every packet, delivery and replay tag recorded and not
  // forgotten, then the last checkpoint (returned). The callbacks may call forget() and
  // forget_delivery() (for what can no longer be routed).
  virtual JournalCheckpoint recover(const RecoverFns& fns) = 0;
};

// Keeps nothing: commit is immediate and recovery finds nothing, so a crash or restart loses
// whatever was in the mix pool, the link queues and the deliver queue, and delivery ids start
// again at 1. For benchmarks and tests that say so explicitly.
class NullJournal final : public Journal {
 public:
  void record(uint64_t, const crypto::RelayId&, WallMicros, ByteView) override {}
  void record_release(uint64_t, WallMicros) override {}
  void forget(uint64_t) override {}
  void record_delivery(uint64_t, ByteView) override {}
  void forget_delivery(uint64_t) override {}
  void record_replay_tag(uint64_t, const ReplayTag&) override {}
  void forget_replay_epochs_before(uint64_t) override {}
  void record_checkpoint(const JournalCheckpoint&) override {}
  void commit(std::function<void()> durable) override { durable(); }
  JournalCheckpoint recover(const RecoverFns&) override { return {}; }
};

}  // namespace veil::relay

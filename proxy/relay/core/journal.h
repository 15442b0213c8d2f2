// The durability seam: what the relay has accepted is recorded before anyone is told so, and
// recovered at start.
//
// Two kinds of entries: packets inside the relay (mix pool and link queues), each with the relay
// id of its next hop, and deliveries not yet acknowledged by the messenger server. The relay
// records and forgets freely, then calls commit(); it answers a submitter (ACCEPTED) and
// acknowledges a peer's packets only inside the commit callback, so an implementation may make a
// whole batch durable at once (one fsync per group, not per packet). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>

#include "base/bytes.h"
#include "crypto/packet_layer.h"

namespace veil::relay {

class Journal {
 public:
  using PacketFn = std::function<void(uint64_t item, const crypto::RelayId& next_hop, Bytes packet)>;
  using DeliveryFn = std::function<void(uint64_t delivery_id, Bytes delivery)>;
  virtual ~Journal() = default;

  // A packet entered the relay, bound for `next_hop`; `item` is unique among live items.
  virtual void record(uint64_t item, const crypto::RelayId& next_hop, ByteView packet) = 0;
  // The next hop acknowledged the packet (or it was dropped): it may be forgotten.
  virtual void forget(uint64_t item) = 0;
  // A delivery (a serialized relay.Delivery) waits for the messenger server's acknowledgement.
  virtual void record_delivery(uint64_t delivery_id, ByteView delivery) = 0;
  // The messenger server acknowledged it.
  virtual void forget_delivery(uint64_t delivery_id) = 0;
  // Group commit: `durable` runs on the loop thread once every record and forget made before this
  // call is as durable as the implementation promises (possibly before commit returns).
  // Callbacks run in the order of the commit calls.
  virtual void commit(std::function<void()> durable) = 0;
  // At start, before any traffic: every packet and delivery recorded and not forgotten, packets in
  // item order, then deliveries in id order. The callbacks may call forget()/forget_delivery()
  // (for what can no longer be routed). Ids are unique among live entries; the relay continues
  // numbering above the largest recovered one, and may reuse ids of forgotten entries.
  virtual void recover(const PacketFn& packet, const DeliveryFn& delivery) = 0;
};

// Keeps nothing: commit is immediate and recovery finds nothing, so a crash or restart loses
// whatever was in the mix pool, the link queues and the deliver queue.
class NullJournal final : public Journal {
 public:
  void record(uint64_t, const crypto::RelayId&, ByteView) override {}
  void forget(uint64_t) override {}
  void record_delivery(uint64_t, ByteView) override {}
  void forget_delivery(uint64_t) override {}
  void commit(std::function<void()> durable) override { durable(); }
  void recover(const PacketFn&, const DeliveryFn&) override {}
};

}  // namespace veil::relay

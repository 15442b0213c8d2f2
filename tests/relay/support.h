// Shared pieces of the in-process relay suite: the standard three-relay world (relay-alpha →
// mix-1 → relay-beta), a journal that records every call and can hold commits back, and a reader
// of the link frames an observer saw.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "proxy/relay/core/journal.h"
#include "proxy/sim/deployment.h"
#include "proxy/sim/in_process.h"

namespace veil::relay_test {

using sim::kAlpha;
using sim::kAlphaProvider;
using sim::kBeta;
using sim::kBetaProvider;
using sim::kMix;

using relay::Counter;
using Tune = std::function<void(relay::RelayConfig&)>;

// alpha.example and beta.example with `users` accounts each; relay-alpha, mix-1 (when `with_mix`,
// and then alpha's packets take one mix hop) and relay-beta. Not started.
void declare_world(sim::InProcessWorld& w, bool with_mix, const Tune& alpha = {},
                   const Tune& mix = {}, const Tune& beta = {}, std::size_t users = 4,
                   relay::Journal* alpha_journal = nullptr, relay::Journal* beta_journal = nullptr);

// Message `n` from alpha's first user to beta's user `to` (SSv1), request id n.
relay::Submission message_to_beta(sim::InProcessWorld& w, uint64_t n, std::size_t to = 0);

// A journal that keeps what is recorded (so a restarted relay recovers it), counts every call,
// and, while holding, queues commit callbacks until release().
class TestJournal final : public relay::Journal {
 public:
  void record(uint64_t item, const crypto::RelayId& next_hop, ByteView packet) override;
  void forget(uint64_t item) override;
  void record_delivery(uint64_t id, ByteView delivery) override;
  void forget_delivery(uint64_t id) override;
  void commit(std::function<void()> durable) override;
  void recover(const PacketFn& packet, const DeliveryFn& delivery) override;

  void hold(bool on) { holding_ = on; }
  // Runs the held commit callbacks in order; returns how many.
  std::size_t release();
  std::size_t held() const { return held_.size(); }

  std::size_t records = 0, forgets = 0, delivery_records = 0, delivery_forgets = 0, commits = 0;
  std::map<uint64_t, std::pair<crypto::RelayId, Bytes>> packets;  // live
  std::map<uint64_t, Bytes> deliveries;                           // live
  std::vector<uint64_t> forgotten;                                // in order

 private:
  bool holding_ = false;
  std::vector<std::function<void()>> held_;
};

// The frames in the bytes a relay wrote to a peer endpoint (each write is whole frames).
struct SeenFrame {
  uint8_t type = 0;
  uint64_t seq = 0;
  Bytes body;  // the whole frame body
};
std::vector<SeenFrame> frames_in(const std::vector<Bytes>& writes);

}  // namespace veil::relay_test

// The relay: accepts submissions, wraps, mixes and forwards packets, unwraps what arrives, sends
// cover traffic, and hands deliveries to the local messenger server. One libuv loop thread.
#pragma once

#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "crypto/packet_layer.h"
#include "base/rng.h"
#include "base/clock.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/cover.h"
#include "proxy/relay/core/journal.h"
#include "proxy/relay/core/metrics.h"
#include "proxy/relay/core/mix.h"
#include "proxy/relay/net.h"
#include "proxy/relay/core/replay_filter.h"

namespace veil::relay {

class Delivery;  // generated from proto/relay.proto

class Relay {
 public:
  // `epoch_key` is this relay's current epoch key pair. The clock, RNG and journal must outlive
  // the relay; `wall_ms` gives wall time for the quantized delivery timestamp.
  Relay(uv_loop_t* loop, RelayConfig config, crypto::KeyPair epoch_key, Clock& clock, Rng& rng,
        Journal& journal, std::function<int64_t()> wall_ms);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Opens listeners, dials peers and the messenger server, starts timers. Throws on bind errors.
  void start();
  // Stops accepting, closes every handle; the loop then runs dry.
  void stop();

  uint16_t peer_port() const;
  uint16_t submit_port() const;
  const Metrics& metrics() const { return metrics_; }
  void write_metrics() const;

 private:
  struct Peer;
  struct InboundLink;
  struct SubmitBatch;
  struct SubmitState;
  struct PacketBatch;
  struct SubmitOutcome {
    uint64_t request_id = 0;
    Error error = Error::ok;
    Bytes packet;
    Peer* first = nullptr;
  };
  struct PoolItem {
    Bytes packet;
    Peer* next = nullptr;
    Micros arrived = 0;
    uint64_t journal_item = 0;
  };
  struct Unacked {
    uint64_t seq;
    Bytes packet;
    uint64_t journal_item;
  };

  // egress (egress.cpp)
  void on_submit_connection(std::shared_ptr<Connection> c);
  void on_submit_frame(Connection& c, Bytes frame);
  void on_submit_read_done(Connection& c);
  // Parses, validates and wraps one submission. Touches no mutable relay state: it runs on
  // worker threads, with that thread's own `rng`.
  SubmitOutcome prepare_submission(ByteView frame_body, Rng& rng) const;
  void finish_submissions(SubmitState& state);
  void on_submit_end(Connection& c);
  std::vector<Peer*> choose_mixes(const Peer* exclude, Rng& rng) const;
  Result<Bytes> wrap_for(const std::vector<Peer*>& path, crypto::HopCommand command,
                         ByteView payload, Rng& rng) const;

  // mix (relay.cpp)
  void mix_add(Peer* next, Bytes packet, Micros arrived);
  void on_mix_timer();
  void arm_mix_timer();

  // peer links (peers.cpp)
  Peer* peer_by_id(const crypto::RelayId& id);
  Peer* peer_by_name(const std::string& name);
  void send_to_peer(Peer& p, Bytes packet, uint64_t journal_item);
  void on_peer_connected(Peer& p, std::shared_ptr<Connection> c);
  void on_peer_ack(Peer& p, ByteView body);
  void on_inbound_connection(std::shared_ptr<Connection> c);
  void on_inbound_frame(Connection& c, Bytes frame);
  std::size_t peer_load(const Peer& p) const;
  // True while unacknowledged deliveries fill the per-peer queue bound: inbound links pause.
  bool deliveries_blocked() const { return deliveries_.size() >= config_.per_peer_queue; }
  static constexpr int kMaxBatchesInFlight = 8;  // per connection; beyond it, reading pauses

  // ingress (ingress.cpp)
  void on_inbound_read_done(Connection& c);
  void finish_packets(InboundLink& link);
  void apply_layer(Result<crypto::Unwrapped>& layer, Micros arrived);
  void deliver_bundle(ByteView payload);
  void queue_delivery(Delivery& d);
  void on_deliver_connected(std::shared_ptr<Connection> c);
  void on_deliver_frame(Connection& c, Bytes frame);
  void on_deliver_retry();

  // cover (cover_traffic.cpp)
  void on_cover_timer();
  void arm_cover_timer();
  void send_drop_cover();
  void send_loop_cover();
  void on_loop_returned(ByteView payload);

  uv_loop_t* loop_;
  RelayConfig config_;
  crypto::KeyPair epoch_key_;
  Clock& clock_;
  Rng& rng_;
  Journal& journal_;
  std::function<int64_t()> wall_ms_;
  Metrics metrics_;

  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::shared_ptr<InboundLink>> inbound_;
  std::unordered_map<Connection*, std::shared_ptr<SubmitState>> submit_state_;
  std::vector<std::weak_ptr<Connection>> submitters_;  // closed on stop()
  std::unique_ptr<Listener> peer_listener_;
  std::unique_ptr<Listener> submit_listener_;

  std::unique_ptr<Mix> mix_;
  std::unordered_map<uint64_t, PoolItem> pool_;
  uint64_t next_item_ = 1;
  uv_timer_t mix_timer_{};
  Micros mix_armed_for_ = kNever;

  ReplayFilter replay_;

  std::unique_ptr<Dialer> deliver_dialer_;
  std::shared_ptr<Connection> deliver_conn_;
  struct PendingDelivery {
    Bytes frame;  // serialized Delivery
    Micros sent_at = 0;
  };
  std::map<uint64_t, PendingDelivery> deliveries_;  // by delivery id, unacknowledged
  uint64_t next_delivery_ = 1;
  uv_timer_t deliver_timer_{};

  PoissonSchedule drop_schedule_;
  PoissonSchedule loop_schedule_;
  LoopTracker loops_;
  uv_timer_t cover_timer_{};

  uv_timer_t metrics_timer_{};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace veil::relay

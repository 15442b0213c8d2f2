// Ingress: unwrap one layer, drop replays and covers, forward or deliver; the deliver link to the
// local messenger server with acknowledgements and retries.
#include <algorithm>

#include "crypto/sealed_sender_v2.h"
#include "proxy/relay/relay.h"
#include "proxy/relay/relay_internal.h"
#include "relay.pb.h"

namespace veil::relay {

void Relay::apply_layer(Result<crypto::Unwrapped>& layer, Micros arrived) {
  metrics_.inc(Counter::packets_received);
  if (!layer) {
    metrics_.inc(layer.error() == Error::malformed ? Counter::packets_dropped_malformed
                                                   : Counter::packets_dropped_auth);
    return;
  }
  switch (replay_.insert(config_.epoch, layer->replay_tag)) {
    case ReplayFilter::Verdict::fresh:
      break;
    case ReplayFilter::Verdict::replayed:
    case ReplayFilter::Verdict::retired:
      metrics_.inc(Counter::packets_dropped_replay);
      return;
    case ReplayFilter::Verdict::full:
      metrics_.inc(Counter::packets_dropped_replay_full);
      return;
  }
  switch (layer->command) {
    case crypto::HopCommand::forward: {
      Peer* next = peer_by_id(layer->next_hop);
      if (next == nullptr) {
        metrics_.inc(Counter::packets_dropped_unknown_hop);
        return;
      }
      metrics_.inc(Counter::packets_forwarded);
      mix_add(next, std::move(layer->inner), arrived);
      return;
    }
    case crypto::HopCommand::deliver:
      deliver_bundle(layer->inner);
      return;
    case crypto::HopCommand::drop:
      metrics_.inc(Counter::cover_drop_received);
      return;
    case crypto::HopCommand::loop:
      on_loop_returned(layer->inner);
      return;
  }
  metrics_.inc(Counter::packets_dropped_malformed);
}

namespace {

bool access_ok(const RelayConfig& config, const std::string& sid, std::array<uint8_t, 16>& acc,
               bool& unknown) {
  auto it = config.recipients.find(sid);
  if (it == config.recipients.end()) {
    unknown = true;
    return false;
  }
  if (!it->second.unrestricted) {
    for (std::size_t i = 0; i < 16; ++i) acc[i] ^= it->second.access_key[i];
  }
  return true;
}

}  // namespace

void Relay::deliver_bundle(ByteView plain) {
  veil::relay::Payload payload;
  if (config_.provider.empty() || plain.size() > INT32_MAX ||
      !payload.ParseFromArray(plain.data(), static_cast<int>(plain.size())) ||
      !payload.has_bundle()) {
    metrics_.inc(Counter::deliveries_dropped_malformed);
    return;
  }
  metrics_.inc(Counter::deliveries_unwrapped);
  const auto& bundle = payload.bundle();
  const ByteView envelope = as_bytes(bundle.envelope());
  const ByteView presented = as_bytes(bundle.access_key());
  if (envelope.empty() || presented.size() != 16) {
    metrics_.inc(Counter::deliveries_dropped_malformed);
    return;
  }
  // Coarse server timestamp: wall time rounded down to the quantum.
  const int64_t wall = wall_ms_();
  const auto stamp = static_cast<uint64_t>(wall - wall % config_.timestamp_quantum_ms);

  std::array<uint8_t, 16> expected{};
  bool unknown = false;
  const int nibble = envelope[0] >> 4;
  if (nibble <= 1) {
    if (bundle.recipients_size() != 1) {
      metrics_.inc(Counter::deliveries_dropped_malformed);
      return;
    }
    const auto& r = bundle.recipients(0);
    auto it = config_.recipients.find(r.service_id());
    if (it == config_.recipients.end()) {
      metrics_.inc(Counter::deliveries_dropped_unknown);
      return;
    }
    if (!it->second.unrestricted && !ct_equal(it->second.access_key, presented)) {
      metrics_.inc(Counter::deliveries_dropped_access);
      return;
    }
    veil::relay::Delivery d;
    *d.mutable_recipient() = r;
    d.set_access_key(bundle.access_key());
    d.set_envelope(bundle.envelope());
    d.set_server_timestamp(stamp);
    queue_delivery(d);
    return;
  }
  auto sent = crypto::SentMessage::parse(envelope);
  if (!sent) {
    metrics_.inc(Counter::deliveries_dropped_malformed);
    return;
  }
  // Signal-Server's multi-recipient rule: the key is the XOR of every restricted recipient's key.
  for (const auto& r : sent->recipients) {
    access_ok(config_, r.service_id.to_string(), expected, unknown);
  }
  if (unknown) {
    metrics_.inc(Counter::deliveries_dropped_unknown);
    return;
  }
  if (!ct_equal(expected, presented)) {
    metrics_.inc(Counter::deliveries_dropped_access);
    return;
  }
  for (std::size_t i = 0; i < sent->recipients.size(); ++i) {
    const auto& r = sent->recipients[i];
    veil::relay::Delivery d;
    d.mutable_recipient()->set_service_id(r.service_id.to_string());
    for (const auto& dev : r.devices) d.mutable_recipient()->add_devices(dev.id);
    d.set_access_key(bundle.access_key());
    std::string env;
    env.reserve(1 + crypto::kRecipientKeyMaterialSize + sent->shared.size());
    for (ByteView piece : sent->received_pieces(i)) env.append(piece.begin(), piece.end());
    d.set_envelope(std::move(env));
    d.set_server_timestamp(stamp);
    queue_delivery(d);
  }
}

}  // namespace veil::relay

namespace veil::relay {

void Relay::queue_delivery(Delivery& d) {
  const uint64_t id = next_delivery_++;
  d.set_delivery_id(id);
  PendingDelivery p;
  p.frame.resize(d.ByteSizeLong());
  d.SerializeWithCachedSizesToArray(p.frame.data());
  if (deliver_conn_ && !deliver_conn_->closed()) {
    deliver_conn_->send(p.frame);
    p.sent_at = clock_.now();
    metrics_.inc(Counter::deliveries_sent);
  }
  deliveries_.emplace(id, std::move(p));
}

void Relay::on_deliver_connected(std::shared_ptr<Connection> c) {
  if (stopped_) {
    c->close();
    return;
  }
  metrics_.inc(Counter::deliver_connects);
  deliver_conn_ = c;
  c->start([this](Connection& conn, Bytes frame) { on_deliver_frame(conn, std::move(frame)); },
           nullptr,
           [this](Connection& closed) {
             if (deliver_conn_.get() != &closed) return;
             deliver_conn_.reset();
             if (!stopped_) deliver_dialer_->connection_lost();
           });
  // Everything not yet acknowledged goes again, oldest first.
  const Micros now = clock_.now();
  for (auto& [id, p] : deliveries_) {
    if (p.sent_at != 0) metrics_.inc(Counter::deliveries_retried);
    c->send(p.frame);
    p.sent_at = now;
    metrics_.inc(Counter::deliveries_sent);
  }
}

void Relay::on_deliver_frame(Connection&, Bytes frame) {
  DeliveryAck ack;
  if (frame.size() > INT32_MAX || !ack.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return;
  }
  if (deliveries_.erase(ack.delivery_id()) == 1) metrics_.inc(Counter::deliveries_acked);
  if (deliveries_.size() == config_.per_peer_queue / 2) {
    for (const auto& l : inbound_) {
      if (l->conn && l->in_flight.size() < static_cast<std::size_t>(kMaxBatchesInFlight)) l->conn->resume();
    }
  }
}

void Relay::on_deliver_retry() {
  if (!deliver_conn_ || deliver_conn_->closed()) return;
  const Micros now = clock_.now();
  for (auto& [id, p] : deliveries_) {
    if (p.sent_at != 0 && now - p.sent_at < config_.deliver_retry) continue;
    if (p.sent_at != 0) metrics_.inc(Counter::deliveries_retried);
    deliver_conn_->send(p.frame);
    p.sent_at = now;
    metrics_.inc(Counter::deliveries_sent);
  }
}

}  // namespace veil::relay

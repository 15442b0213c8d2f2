// Stage 5 of relay.h's path: a bundle that reached its destination relay is opened (bundle.cpp:
// access check, SSv2 fan-out) and handed to the messenger server over the deliver link, which
// acknowledges each delivery; unacknowledged ones are re-sent after deliver_retry or a reconnect.
#include "proxy/relay/core/bundle.h"
#include "proxy/relay/core/relay_state.h"
#include "relay.pb.h"

namespace veil::relay {

void RelayState::deliver_bundle(ByteView plain) {
  if (!provider_) {
    metrics_.inc(Counter::deliveries_dropped_malformed);
    return;
  }
  // Coarse server timestamp: wall time rounded down to the quantum.
  const int64_t wall = env_.clock.wall_ms();
  const auto stamp = static_cast<uint64_t>(wall - wall % config_.timestamp_quantum_ms);
  auto deliveries = open_bundle(plain, config_.recipients, stamp);
  if (!deliveries) {
    switch (deliveries.error()) {
      case Error::unknown_recipient:
        metrics_.inc(Counter::deliveries_unwrapped);
        metrics_.inc(Counter::deliveries_dropped_unknown);
        return;
      case Error::access_denied:
        metrics_.inc(Counter::deliveries_unwrapped);
        metrics_.inc(Counter::deliveries_dropped_access);
        return;
      default:
        metrics_.inc(Counter::deliveries_dropped_malformed);
        return;
    }
  }
  metrics_.inc(Counter::deliveries_unwrapped);
  for (Delivery& d : *deliveries) queue_delivery(d);
}

void RelayState::queue_delivery(Delivery& d) {
  ProviderSide& ps = *provider_;
  const uint64_t id = ps.next_delivery++;
  d.set_delivery_id(id);
  PendingDelivery p;
  p.frame.resize(d.ByteSizeLong());
  d.SerializeWithCachedSizesToArray(p.frame.data());
  env_.journal.record_delivery(id, p.frame);
  // Sent once durable (on_durable): a delivery id the messenger server saw is never reused, and
  // a crash before the commit makes the previous hop send the packet again.
  p.durable_at = commits_made_ + 1;
  ps.not_durable.push_back(id);
  ps.deliveries.emplace(id, std::move(p));
}

void RelayState::on_deliver_connected(std::shared_ptr<Stream> s) {
  if (stopped_) {
    s->close();
    return;
  }
  ProviderSide& ps = *provider_;
  metrics_.inc(Counter::deliver_connects);
  emit(RelayEvent::Kind::deliver_link_up);
  auto conn = FramedStream::create(std::move(s), 64);
  ps.deliver_conn = conn;
  conn->start([this](FramedStream&, Bytes frame) { on_deliver_frame(frame); },
              [this](FramedStream&, Error) { metrics_.inc(Counter::deliver_frames_malformed); },
              [this](FramedStream& closed) {
                ProviderSide& side = *provider_;
                if (side.deliver_conn.get() != &closed) return;
                side.deliver_conn.reset();
                if (!stopped_) emit(RelayEvent::Kind::deliver_link_down);
                if (!stopped_) side.deliver_dialer->connection_lost();
              });
  // Everything not yet acknowledged goes again, oldest first.
  const Micros now = env_.clock.now();
  for (auto& [id, p] : ps.deliveries) {
    if (p.durable_at > commits_durable_) break;  // ids grow with commits: the rest wait too
    if (p.sent_at != kNever) metrics_.inc(Counter::deliveries_retried);
    conn->send(p.frame);
    p.sent_at = now;
    metrics_.inc(Counter::deliveries_sent);
  }
}

void RelayState::on_deliver_frame(ByteView frame) {
  ProviderSide& ps = *provider_;
  DeliveryAck ack;
  if (frame.size() > INT32_MAX || !ack.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    metrics_.inc(Counter::deliver_frames_malformed);
    return;
  }
  auto it = ps.deliveries.find(ack.delivery_id());
  if (it == ps.deliveries.end() || it->second.sent_at == kNever) {
    // An id never sent or already acknowledged (a repeated ack after a resend; an empty frame,
    // which is DeliveryAck{delivery_id 0}): counted, the link stays.
    metrics_.inc(Counter::deliver_acks_unknown);
    return;
  }
  ps.deliveries.erase(it);
  env_.journal.forget_delivery(ack.delivery_id());
  metrics_.inc(Counter::deliveries_acked);
  journal_commit(nullptr);  // the forget: so that a restart does not deliver it again
  check_drained();
}

void RelayState::on_deliver_retry() {
  ProviderSide& ps = *provider_;
  const Micros now = env_.clock.now();
  ps.retry_timer->arm_at(now + std::max<Micros>(config_.deliver_retry, 10'000));
  if (!ps.deliver_conn || ps.deliver_conn->closed()) return;
  for (auto& [id, p] : ps.deliveries) {
    if (p.durable_at > commits_durable_) break;
    if (p.sent_at != kNever && now - p.sent_at < config_.deliver_retry) continue;
    if (p.sent_at != kNever) metrics_.inc(Counter::deliveries_retried);
    ps.deliver_conn->send(p.frame);
    p.sent_at = now;
    metrics_.inc(Counter::deliveries_sent);
  }
}

}  // namespace veil::relay

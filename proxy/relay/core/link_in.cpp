// Stage 4 of relay.h's path: packets arriving from peers. The frames of one read form a batch that
// is unwrapped on a worker; batches are applied strictly in arrival order (replay filter, then
// forward to the mix, deliver, or cover), and acknowledged once the journal holds the result.
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

void RelayState::on_inbound_connection(std::shared_ptr<Stream> s) {
  if (stopped_ || draining_) {
    s->close();
    return;
  }
  if (!admit_inbound_connection(*s)) {
    s->close();
    return;
  }
  auto link = std::make_shared<InboundLink>();
  link->source = s->source();
  if (!link->source.empty()) ++inbound_by_source_[link->source];
  link->accepted_at = env_.clock.now();
  link->slow = SlowWatch{true, 0, link->accepted_at};  // waiting for its peer from the start
  link->secure = env_.security.inbound(std::move(s));
  link->conn = FramedStream::create(link->secure, config_.packet_size + 64);
  inbound_.push_back(link);
  InboundLink* raw = link.get();
  std::weak_ptr<InboundLink> weak = link;
  link->conn->start(
      [this, raw](FramedStream&, Bytes frame) { on_inbound_frame(*raw, std::move(frame)); },
      [this](FramedStream&, Error) { metrics_.inc(Counter::peer_frames_malformed); },
      [this, raw](FramedStream&) {
        forget_inbound_source(raw->source);
        raw->conn.reset();
        // Batches still in flight hold their own reference to the link.
        std::erase_if(inbound_, [](const auto& x) { return x->conn == nullptr; });
      },
      [this, weak](FramedStream&) {
        if (auto l = weak.lock()) on_inbound_read_done(l);
      });
}

void RelayState::on_inbound_frame(InboundLink& link, Bytes frame) {
  if (!link.identified) {
    // Who is at the other end is the security layer's word, final before the first frame.
    link.identified = true;
    if (auto who = link.secure->peer()) link.peer = peer_by_name(who->name);
  }
  if (!frame.empty() && frame[0] == static_cast<uint8_t>(LinkFrameType::hello)) {
    return;  // a hello after the handshake changes nothing
  }
  auto decoded = decode_link_frame(frame, config_.packet_size);
  if (!decoded || decoded->type != LinkFrameType::packet) {
    metrics_.inc(Counter::peer_frames_malformed);
    link.conn->close();
    return;
  }
  if (!link.batches.has_building()) {
    PacketBatch& b = link.batches.building();
    b.keys = keys_;
    b.peer = link.peer;
    b.pairwise = link.peer != nullptr && !keys_->pairwise[link.peer->index].empty();
    b.onion_first = link.onion_first;
    b.arrived = env_.clock.now();
    b.wall = env_.clock.wall_us();
  }
  PacketBatch& b = link.batches.building();
  b.last_seq = decoded->seq;
  b.frames.push_back(std::move(frame));  // still carries the 9-byte link header
}

void RelayState::on_inbound_read_done(const std::shared_ptr<InboundLink>& link) {
  if (!link->batches.has_building()) return;
  InboundLink* raw = link.get();
  link->batches.dispatch(
      env_.executor, link,
      [](PacketBatch& b) {
        b.layers.reserve(b.frames.size());
        b.epochs.reserve(b.frames.size());
        for (const Bytes& frame : b.frames) {
          const ByteView packet = ByteView(frame).subspan(kLinkHeaderSize);
          uint64_t epoch = 0;
          bool pairwise_layer = false;
          b.layers.push_back(unwrap_layer(b, packet, epoch, pairwise_layer));
          b.epochs.push_back(epoch);
          if (pairwise_layer) ++b.pairwise_hits;
        }
      },
      [this, raw](PacketBatch& b) { finish_packets(*raw, b); },
      [this, raw] { after_packets(*raw); });
  if (link->batches.full() && link->conn) link->conn->pause();
}

// Per batch, in arrival order.
void RelayState::finish_packets(InboundLink& link, PacketBatch& b) {
  if (stopped_) return;  // not acknowledged: the peer sends these again
  for (std::size_t i = 0; i < b.layers.size(); ++i) apply_layer(b.layers[i], b.epochs[i], b.arrived);
  link.applied = true;
  link.ack_upto = b.last_seq;
  if (b.pairwise) link.onion_first = b.pairwise_hits * 2 < b.frames.size();
}

// After a completion: acknowledge cumulatively once the journal holds what was applied.
void RelayState::after_packets(InboundLink& link) {
  const uint64_t upto = link.ack_upto;
  link.ack_upto = 0;
  if (link.applied) {
    // Committed even if the link is gone: what was applied must become durable to be sent on.
    link.applied = false;
    std::shared_ptr<FramedStream> conn = link.conn;
    journal_commit([conn, upto] {
      if (upto != 0 && conn && !conn->closed()) conn->send(encode_ack(upto));
    });
  }
  if (!link.conn || link.conn->closed()) return;
  // Backpressure: stop reading peer links while the messenger server or a next hop is behind,
  // the journal cannot write, or the relay drains.
  if (inbound_blocked()) {
    link.conn->pause();
  } else if (!link.batches.full()) {
    link.conn->resume();
  }
}

void RelayState::apply_layer(Result<crypto::Unwrapped>& layer, uint64_t epoch, Micros arrived) {
  metrics_.inc(Counter::packets_received);
  if (!layer) {
    metrics_.inc(layer.error() == Error::malformed       ? Counter::packets_dropped_malformed
                 : layer.error() == Error::epoch_expired ? Counter::packets_dropped_epoch
                                                         : Counter::packets_dropped_auth);
    return;
  }
  switch (replay_.insert(epoch, layer->replay_tag)) {
    case ReplayFilter::Verdict::fresh:
      env_.journal.record_replay_tag(epoch, layer->replay_tag);
      break;
    case ReplayFilter::Verdict::replayed:
      metrics_.inc(Counter::packets_dropped_replay);
      return;
    case ReplayFilter::Verdict::retired:  // decoded just before its epoch's key was wiped
      metrics_.inc(Counter::packets_dropped_epoch);
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

}  // namespace veil::relay

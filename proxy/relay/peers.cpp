// Peer links: one outgoing connection per peer carries packets with link-local sequence numbers;
// the receiver acknowledges cumulatively; unacknowledged packets are re-sent after a reconnect.
#include <algorithm>

#include "proxy/relay/relay.h"
#include "proxy/relay/relay_internal.h"

namespace veil::relay {

Relay::Peer* Relay::peer_by_id(const crypto::RelayId& id) {
  for (auto& p : peers_) {
    if (p->config.id == id) return p.get();
  }
  return nullptr;
}

Relay::Peer* Relay::peer_by_name(const std::string& name) {
  for (auto& p : peers_) {
    if (p->config.name == name) return p.get();
  }
  return nullptr;
}

namespace {

void send_packet_frame(Connection& c, uint64_t seq, ByteView packet) {
  uint8_t head[9];
  head[0] = static_cast<uint8_t>(LinkFrame::packet);
  put_u64(head + 1, seq);
  c.send2(ByteView(head, sizeof head), packet);
}

}  // namespace

void Relay::send_to_peer(Peer& p, Bytes packet, uint64_t journal_item) {
  if (p.conn && !p.conn->closed()) {
    const uint64_t seq = p.next_seq++;
    send_packet_frame(*p.conn, seq, packet);
    p.unacked.push_back(Unacked{seq, std::move(packet), journal_item});
    metrics_.inc(Counter::packets_sent);
  } else {
    if (p.waiting.size() >= config_.per_peer_queue) {
      metrics_.inc(Counter::packets_dropped_queue_full);
      journal_.forget(journal_item);
      return;
    }
    p.waiting.push_back(Unacked{0, std::move(packet), journal_item});
  }
  metrics_.queue_now = 0;
  for (const auto& q : peers_) metrics_.queue_now += q->unacked.size() + q->waiting.size();
}

void Relay::on_peer_connected(Peer& p, std::shared_ptr<Connection> c) {
  if (stopped_) {
    c->close();
    return;
  }
  metrics_.inc(Counter::peer_connects);
  p.conn = c;
  Peer* peer = &p;
  c->start([this, peer](Connection&, Bytes frame) { on_peer_ack(*peer, frame); },
           [this](Connection&, Error) { metrics_.inc(Counter::peer_frames_malformed); },
           [this, peer](Connection& closed) {
             if (peer->conn.get() != &closed) return;
             peer->conn.reset();
             metrics_.inc(Counter::peer_disconnects);
             // Everything unacknowledged goes back to the front of the waiting queue.
             while (!peer->unacked.empty()) {
               peer->waiting.push_front(std::move(peer->unacked.back()));
               peer->unacked.pop_back();
             }
             if (!stopped_ && peer->dialer) peer->dialer->connection_lost();
           });
  const std::string& name = config_.name;
  Bytes hello;
  hello.push_back(static_cast<uint8_t>(LinkFrame::hello));
  append(hello, as_bytes(name));
  c->send(hello);
  // Re-send what was never acknowledged, then what waited for a connection, in order.
  std::deque<Unacked> backlog;
  backlog.swap(p.waiting);
  for (auto& u : backlog) {
    if (u.seq != 0) metrics_.inc(Counter::packets_retransmitted);
    u.seq = p.next_seq++;
    send_packet_frame(*c, u.seq, u.packet);
    metrics_.inc(Counter::packets_sent);
    p.unacked.push_back(std::move(u));
  }
}

void Relay::on_peer_ack(Peer& p, ByteView body) {
  if (body.size() != 9 || body[0] != static_cast<uint8_t>(LinkFrame::ack)) {
    metrics_.inc(Counter::peer_frames_malformed);
    return;
  }
  const uint64_t upto = get_u64(body.data() + 1);
  while (!p.unacked.empty() && p.unacked.front().seq <= upto) {
    journal_.forget(p.unacked.front().journal_item);
    p.unacked.pop_front();
  }
  metrics_.queue_now = 0;
  for (const auto& q : peers_) metrics_.queue_now += q->unacked.size() + q->waiting.size();
}

void Relay::on_inbound_connection(std::shared_ptr<Connection> c) {
  auto link = std::make_shared<InboundLink>();
  link->conn = c;
  c->user = link.get();
  inbound_.push_back(link);
  c->start([this](Connection& conn, Bytes frame) { on_inbound_frame(conn, std::move(frame)); },
           [this](Connection&, Error) { metrics_.inc(Counter::peer_frames_malformed); },
           [this](Connection& closed) {
             auto* l = static_cast<InboundLink*>(closed.user);
             closed.user = nullptr;
             if (l != nullptr) l->conn.reset();
             // Batches still in flight hold their own reference to the link.
             std::erase_if(inbound_, [](const auto& x) { return x->conn == nullptr; });
           },
           [this](Connection& conn) { on_inbound_read_done(conn); });
}

void Relay::on_inbound_frame(Connection& c, Bytes frame) {
  auto* link = static_cast<InboundLink*>(c.user);
  if (link == nullptr || frame.empty()) return;
  const auto type = static_cast<LinkFrame>(frame[0]);
  if (type == LinkFrame::hello) {
    const std::string name(frame.begin() + 1, frame.end());
    link->peer = peer_by_name(name);  // unknown names get onion-only treatment
    return;
  }
  if (type != LinkFrame::packet || frame.size() != 9 + config_.packet_size) {
    metrics_.inc(Counter::peer_frames_malformed);
    c.close();
    return;
  }
  if (!link->building) {
    link->building = std::make_unique<PacketBatch>();
    link->building->relay = this;
    for (const auto& l : inbound_) {
      if (l.get() == link) link->building->link = l;
    }
    if (link->peer != nullptr && link->peer->recv_key) link->building->pairwise = link->peer->recv_key;
    link->building->onion_first = link->onion_first;
    link->building->arrived = clock_.now();
  }
  link->building->last_seq = get_u64(frame.data() + 1);
  link->building->packets.push_back(std::move(frame));  // still carries the 9-byte link header
}

void Relay::on_inbound_read_done(Connection& c) {
  auto* link = static_cast<InboundLink*>(c.user);
  if (link == nullptr || !link->building) return;
  PacketBatch* batch = link->building.get();
  link->in_flight.push_back(std::move(link->building));
  if (link->in_flight.size() >= static_cast<std::size_t>(kMaxBatchesInFlight)) c.pause();
  batch->req.data = batch;
  uv_queue_work(
      loop_, &batch->req,
      [](uv_work_t* req) {
        auto* b = static_cast<PacketBatch*>(req->data);
        b->layers.reserve(b->packets.size());
        for (const Bytes& frame : b->packets) {
          const ByteView packet = ByteView(frame).subspan(9);
          Result<crypto::Unwrapped> layer = Error::decryption_failed;
          bool pairwise_layer = false;
          if (b->pairwise && !b->onion_first) {
            layer = crypto::unwrap_pairwise(packet, *b->pairwise);
            pairwise_layer = layer.ok();
          }
          if (!layer) layer = crypto::unwrap_onion(packet, b->relay->epoch_key_);
          if (!layer && b->pairwise && b->onion_first) {
            layer = crypto::unwrap_pairwise(packet, *b->pairwise);
            pairwise_layer = layer.ok();
          }
          if (pairwise_layer) ++b->pairwise_hits;
          b->layers.push_back(std::move(layer));
        }
      },
      [](uv_work_t* req, int) {
        auto* b = static_cast<PacketBatch*>(req->data);
        b->done = true;
        auto owner = b->link;  // keeps the link alive through finish_packets
        b->relay->finish_packets(*owner);
      });
}

void Relay::finish_packets(InboundLink& link) {
  // Apply completed batches strictly in arrival order, then acknowledge cumulatively.
  uint64_t ack_upto = 0;
  while (!link.in_flight.empty() && link.in_flight.front()->done) {
    std::unique_ptr<PacketBatch> b = std::move(link.in_flight.front());
    link.in_flight.pop_front();
    for (auto& layer : b->layers) apply_layer(layer, b->arrived);
    ack_upto = b->last_seq;
    if (b->pairwise) link.onion_first = b->pairwise_hits * 2 < b->packets.size();
  }
  if (link.conn && !link.conn->closed()) {
    if (ack_upto != 0) {
      uint8_t ack[9];
      ack[0] = static_cast<uint8_t>(LinkFrame::ack);
      put_u64(ack + 1, ack_upto);
      link.conn->send(ByteView(ack, sizeof ack));
    }
    // Backpressure: stop reading peer links while the messenger server is behind.
    if (deliveries_blocked()) {
      link.conn->pause();
    } else if (link.in_flight.size() < static_cast<std::size_t>(kMaxBatchesInFlight)) {
      link.conn->resume();
    }
  }
}

}  // namespace veil::relay

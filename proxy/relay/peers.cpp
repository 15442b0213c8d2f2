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
}

void Relay::on_inbound_connection(std::shared_ptr<Connection> c) {
  auto link = std::make_unique<InboundLink>();
  link->conn = c;
  InboundLink* raw = link.get();
  c->user = raw;
  inbound_.push_back(std::move(link));
  c->start([this, raw](Connection&, Bytes frame) { on_inbound_frame(*raw->conn, std::move(frame)); },
           [this](Connection&, Error) { metrics_.inc(Counter::peer_frames_malformed); },
           [this, raw](Connection&) {
             // Destroying the link (and its handlers) from inside this callback is unsafe; the
             // connection is released here and the empty link record is reaped on the next accept.
             raw->conn->user = nullptr;
             raw->conn.reset();
             std::erase_if(inbound_, [](const auto& l) { return l->conn == nullptr; });
           });
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
  const uint64_t seq = get_u64(frame.data() + 1);
  handle_packet(*link, ByteView(frame).subspan(9));
  link->last_seq = seq;
  uint8_t ack[9];
  ack[0] = static_cast<uint8_t>(LinkFrame::ack);
  put_u64(ack + 1, seq);
  c.send(ByteView(ack, sizeof ack));
}

}  // namespace veil::relay

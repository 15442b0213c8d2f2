// Stage 3 of relay.h's path: one outgoing link per peer carries packets with link-local sequence
// numbers; the peer acknowledges cumulatively; what was not acknowledged is re-sent, in order,
// after a reconnect. Every byte goes through the link-security slot.
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

Peer* RelayState::peer_by_id(const crypto::RelayId& id) {
  for (auto& p : peers_) {
    if (p->config.id == id) return p.get();
  }
  return nullptr;
}

Peer* RelayState::peer_by_name(const std::string& name) {
  for (auto& p : peers_) {
    if (p->config.name == name) return p.get();
  }
  return nullptr;
}

void RelayState::send_to_peer(Peer& p, Bytes packet, uint64_t journal_item) {
  if (p.conn && !p.conn->closed()) {
    const uint64_t seq = p.next_seq++;
    p.conn->send2(encode_packet_header(seq), packet);
    p.unacked.push_back(Unacked{seq, std::move(packet), journal_item});
    metrics_.inc(Counter::packets_sent);
  } else {
    // No drop at a bound: what this relay acknowledged is kept. The bound holds submissions
    // (busy) and inbound links (paused, inbound_blocked) instead.
    p.waiting.push_back(Unacked{0, std::move(packet), journal_item});
  }
  update_queue_gauge();
}

void RelayState::update_queue_gauge() {
  metrics_.queue_now = 0;
  for (const auto& q : peers_) metrics_.queue_now += q->unacked.size() + q->waiting.size();
}

void RelayState::on_peer_connected(Peer& p, std::shared_ptr<Stream> s) {
  if (stopped_) {
    s->close();
    return;
  }
  metrics_.inc(Counter::peer_connects);
  ++p.connects;
  emit(RelayEvent::Kind::peer_link_up, p.config.name);
  auto conn = FramedStream::create(env_.security.outbound(std::move(s), p.config.name),
                                   64);
  p.conn = conn;
  Peer* peer = &p;
  conn->start([this, peer](FramedStream&, Bytes frame) { on_peer_frame(*peer, frame); },
              [this](FramedStream&, Error) { metrics_.inc(Counter::peer_frames_malformed); },
              [this, peer](FramedStream& closed) {
                if (peer->conn.get() != &closed) return;
                peer->conn.reset();
                metrics_.inc(Counter::peer_disconnects);
                ++peer->disconnects;
                if (!stopped_) emit(RelayEvent::Kind::peer_link_down, peer->config.name);
                // Everything unacknowledged goes back to the front of the waiting queue.
                while (!peer->unacked.empty()) {
                  peer->waiting.push_front(std::move(peer->unacked.back()));
                  peer->unacked.pop_back();
                }
                if (!stopped_ && peer->dialer) peer->dialer->connection_lost();
              });
  // Re-send what was never acknowledged, then what waited for a connection, in order.
  std::deque<Unacked> backlog;
  backlog.swap(p.waiting);
  for (auto& u : backlog) {
    if (u.seq != 0) metrics_.inc(Counter::packets_retransmitted);
    u.seq = p.next_seq++;
    conn->send2(encode_packet_header(u.seq), u.packet);
    metrics_.inc(Counter::packets_sent);
    p.unacked.push_back(std::move(u));
  }
}

// The only frame a peer sends back on this link: a cumulative ack.
void RelayState::on_peer_frame(Peer& p, ByteView body) {
  auto frame = decode_link_frame(body, config_.packet_size);
  if (!frame || frame->type != LinkFrameType::ack) {
    metrics_.inc(Counter::peer_frames_malformed);
    return;
  }
  while (!p.unacked.empty() && p.unacked.front().seq <= frame->seq) {
    env_.journal.forget(p.unacked.front().journal_item);
    p.unacked.pop_front();
  }
  update_queue_gauge();
  journal_commit(nullptr);  // the forgets: so that a restart does not send these again
  check_drained();
}

}  // namespace veil::relay

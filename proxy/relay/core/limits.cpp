// Limits on what one connection or one party may hold: connections per listener and per source,
// connections that stall mid-frame or never read, and submissions per destination per second.
#include <algorithm>

#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

bool RelayState::identified(const InboundLink& l) {
  if (!l.secure) return false;
  const auto who = l.secure->peer();
  return who.has_value() && peer_by_name(who->name) != nullptr;
}

// Per source: the new connection is refused (a source only crowds itself out). In all: the
// connections whose peer is not known yet share the cap; at the cap the oldest of them makes room
// (a relay's handshake takes milliseconds, so an old unidentified connection is the likeliest to
// be a stalled one), and links of known relays are never counted or closed.
bool RelayState::admit_inbound_connection(const Stream& s) {
  const std::string source = s.source();
  if (!source.empty()) {
    auto it = inbound_by_source_.find(source);
    if (it != inbound_by_source_.end() && it->second >= config_.limits.peer_connections_per_source) {
      metrics_.inc(Counter::peer_connections_refused_source);
      return false;
    }
  }
  std::size_t unidentified = 0;
  InboundLink* oldest = nullptr;
  for (const auto& l : inbound_) {
    if (!l->conn || l->conn->closed() || identified(*l)) continue;
    ++unidentified;
    if (oldest == nullptr || l->accepted_at < oldest->accepted_at) oldest = l.get();
  }
  if (unidentified < config_.limits.peer_connections) return true;
  metrics_.inc(Counter::peer_connections_refused);
  if (oldest == nullptr) return false;
  oldest->conn->close();
  return true;
}

void RelayState::forget_inbound_source(const std::string& source) {
  if (source.empty()) return;
  auto it = inbound_by_source_.find(source);
  if (it != inbound_by_source_.end() && --it->second == 0) inbound_by_source_.erase(it);
}

bool RelayState::admit_submit_connection() {
  if (provider_->submits.size() < config_.limits.submit_connections) return true;
  metrics_.inc(Counter::submit_connections_refused);
  return false;
}

// A token bucket per destination relay: `submit_rate` tokens a second, holding `submit_burst`.
bool RelayState::take_submit_token(Peer& destination) {
  const LimitsConfig& l = config_.limits;
  if (l.submit_rate <= 0) return true;
  const Micros now = env_.clock.now();
  const auto burst = static_cast<double>(l.submit_burst);
  if (destination.submit_tokens < 0) {
    destination.submit_tokens = burst;
  } else {
    const double earned = static_cast<double>(now - destination.submit_tokens_at) / 1e6 * l.submit_rate;
    destination.submit_tokens = std::min(burst, destination.submit_tokens + earned);
  }
  destination.submit_tokens_at = now;
  if (destination.submit_tokens < 1) {
    metrics_.inc(Counter::submissions_rate_limited);
    return false;
  }
  destination.submit_tokens -= 1;
  return true;
}

// Looks at every connection a quarter of the frame timeout apart: a connection is closed between
// one and one and a half timeouts after it began waiting (it is first seen waiting up to a
// quarter later, and closed at the first look a timeout after that).
void RelayState::arm_limits_timer() {
  if (stopped_) return;
  limits_timer_->arm_at(env_.clock.now() + std::max<Micros>(config_.limits.frame_timeout / 4, 1000));
}

bool RelayState::check_connection(FramedStream& conn, SlowWatch& w, bool unidentified,
                                  Counter slow, Counter unread) {
  if (conn.closed()) return false;
  const Micros now = env_.clock.now();
  if (conn.pending_bytes() > config_.limits.unread_bytes) {
    metrics_.inc(unread);
    conn.close();
    return true;
  }
  // Waiting is the relay's doing while it paused the reads; progress is a finished frame. An
  // idle connection is fine once its peer is known (links between relays may be quiet).
  const bool waiting = !conn.paused() && (conn.mid_frame() || unidentified);
  if (!waiting) {
    w.waiting = false;
    return false;
  }
  if (!w.waiting || conn.frames() != w.frames) {  // began waiting, or made progress, since the last look
    w.waiting = true;
    w.frames = conn.frames();
    w.since = now;
    return false;
  }
  if (now - w.since < config_.limits.frame_timeout) return false;
  metrics_.inc(slow);
  conn.close();
  return true;
}

void RelayState::on_limits_timer() {
  if (stopped_) return;
  // Copies: a close may run handlers that erase from these containers.
  std::vector<std::shared_ptr<InboundLink>> links = inbound_;
  for (auto& l : links) {
    if (l->conn) {
      check_connection(*l->conn, l->slow, !identified(*l), Counter::peer_connections_slow,
                       Counter::peer_connections_unread);
    }
  }
  if (provider_) {
    std::vector<std::shared_ptr<SubmitConn>> submits;
    for (auto& [raw, sc] : provider_->submits) submits.push_back(sc);
    for (auto& sc : submits) {
      if (sc->conn) {
        check_connection(*sc->conn, sc->slow, false, Counter::submit_connections_slow,
                         Counter::submit_connections_unread);
      }
    }
  }
  arm_limits_timer();
}

}  // namespace veil::relay

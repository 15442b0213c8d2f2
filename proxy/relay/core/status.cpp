// What the relay says about itself to the admin endpoint: readiness, links, directory horizon.
#include <algorithm>

#include "proxy/relay/core/relay.h"
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

namespace {

// The end (unix s) of the last epoch for which `directory` publishes relay `self`'s key.
int64_t published_until(const RelayConfig& c) {
  if (c.epoch_timing.length <= 0) return 0;
  for (const PeerConfig& pc : c.directory) {
    if (pc.id != c.id || pc.epoch_keys.empty()) continue;
    const uint64_t last = pc.epoch_keys.rbegin()->first;
    return epoch_start(c.epoch_timing, last + 1) / 1'000'000;
  }
  return 0;
}

}  // namespace

std::vector<std::string> Relay::not_ready() const {
  const RelayState& s = *state_;
  if (!s.started_) return {"starting"};
  if (s.stopped_) return {"stopped"};
  std::vector<std::string> why;
  if (s.draining_) why.push_back("draining");
  if (s.env_.journal.failing()) why.push_back("journal: failing (each commit is retried)");
  const uint64_t current = s.keys_->epochs->current;
  if (s.keys_->epochs->key(current) == nullptr) {
    why.push_back("keys: no epoch key for the current epoch " + std::to_string(current));
  }
  const int64_t now_s = s.env_.clock.wall_us() / 1'000'000;
  if (s.config_.directory_valid_until != 0 && now_s >= s.config_.directory_valid_until) {
    why.push_back("directory: expired at " + std::to_string(s.config_.directory_valid_until) +
                  " (unix s)");
  }
  return why;
}

std::vector<PeerLinkStatus> Relay::peer_links() const {
  std::vector<PeerLinkStatus> out;
  out.reserve(state_->peers_.size());
  for (const auto& p : state_->peers_) {
    PeerLinkStatus l;
    l.name = p->config.name;
    l.up = p->conn != nullptr;
    l.queued = p->waiting.size();
    l.unacknowledged = p->unacked.size();
    l.connects = p->connects;
    l.disconnects = p->disconnects;
    out.push_back(std::move(l));
  }
  return out;
}

DeliverLinkStatus Relay::deliver_link() const {
  const auto& p = state_->provider_;
  if (!p) return {};
  return DeliverLinkStatus{p->deliver_conn != nullptr, p->deliveries.size()};
}

int64_t Relay::directory_valid_until() const { return state_->config_.directory_valid_until; }

int64_t Relay::epoch_keys_published_until() const { return published_until(state_->config_); }

}  // namespace veil::relay

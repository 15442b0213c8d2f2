// Relay lifecycle: construction, journal recovery, start and stop. No data path here.
#include "proxy/relay/core/relay.h"

#include <stdexcept>

#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

RelayState::RelayState(RelayConfig config, RelayEnv env)
    : config_(std::move(config)),
      role_(config_.provider.empty() ? Role::mix : Role::provider),
      env_(env),
      replay_(config_.max_replay_entries, env.rng),
      drop_schedule_(config_.cover.drop_rate, env.rng, env.clock.now()),
      loop_schedule_(config_.cover.loop_rate, env.rng, env.clock.now()),
      loops_(config_.cover.loop_timeout,
             std::max<Micros>(config_.cover.loop_timeout * 3, 30'000'000)) {
  wall_offset_ = env_.clock.wall_us() - env_.clock.now();
  if (config_.name.empty() || config_.name.size() > kMaxHelloName) {
    throw std::runtime_error("config: name: must be 1..255 bytes");
  }
  auto mix = make_mix(config_.mix, env_.rng);
  if (!mix) throw std::runtime_error("config: mix: parameters out of range");
  mix_ = std::move(*mix);
  EpochTiming& t = config_.epoch_timing;
  if (t.length <= 0) {
    t = EpochTiming{0, 0, 0, config_.epoch};
  } else if (t.overlap < 0 || t.overlap > t.length / 2) {
    throw std::runtime_error("epochs: the overlap must be 0 .. half an epoch");
  }
  for (const PeerConfig& pc : config_.directory) {
    if (pc.id == config_.id) continue;  // this relay's own entry
    auto p = std::make_unique<Peer>();
    p->config = pc;
    p->index = peers_.size();
    peer_configs_.push_back(pc);
    peers_.push_back(std::move(p));
  }
  keys_ = build_keys(env_.clock.wall_us());
  const uint64_t current = keys_->epochs->current;
  if (keys_->epochs->key(current) == nullptr) {
    throw std::runtime_error("epochs: no key for the current epoch " + std::to_string(current));
  }
  metrics_.epoch = current;
  epoch_timer_ = env_.clock.timer([this] { on_epoch_timer(); });
  if (role_ == Role::provider) provider_.emplace();
  mix_timer_ = env_.clock.timer([this] { on_mix_timer(); });
  cover_timer_ = env_.clock.timer([this] { on_cover_timer(); });
  limits_timer_ = env_.clock.timer([this] { on_limits_timer(); });
}

void RelayState::start() {
  started_ = true;
  recover();
  Endpoint peer_at = config_.peer_listen;
  Endpoint submit_at = config_.submit_listen;
  peer_at.unix_mode = submit_at.unix_mode = config_.unix_socket_mode;
  peer_listener_ = env_.transport.listen(
      peer_at, [this](std::shared_ptr<Stream> s) { on_inbound_connection(std::move(s)); });
  for (auto& p : peers_) {
    Peer* peer = p.get();
    Endpoint where;
    where.host = peer->config.host;
    where.port = peer->config.port;
    peer->dialer = env_.transport.dialer(
        where, [this, peer](std::shared_ptr<Stream> s) { on_peer_connected(*peer, std::move(s)); });
    peer->dialer->start();
  }
  if (provider_) {
    if (config_.submit_listen.enabled()) {
      provider_->submit_listener = env_.transport.listen(
          submit_at,
          [this](std::shared_ptr<Stream> s) { on_submit_connection(std::move(s)); });
    }
    provider_->deliver_dialer = env_.transport.dialer(
        config_.deliver_to,
        [this](std::shared_ptr<Stream> s) { on_deliver_connected(std::move(s)); });
    provider_->deliver_dialer->start();
    provider_->retry_timer = env_.clock.timer([this] { on_deliver_retry(); });
    provider_->retry_timer->arm_at(env_.clock.now() + std::max<Micros>(config_.deliver_retry, 10'000));
  }
  arm_cover_timer();
  arm_epoch_timer();  // a change since the constructor's snapshot is due at once
  arm_limits_timer();
}

// Whatever the journal kept from an earlier run goes back where it was: replay tags into the
// filter, packets into the mix with their release times (the tick schedule resumed first),
// deliveries into the deliver queue with their ids; numbering continues above every id used.
void RelayState::recover() {
  struct Found {
    RecoveredPacket packet;
    Peer* next;
  };
  std::vector<Found> packets;
  Journal::RecoverFns fns;
  // Tags of epochs whose keys are held come back; older ones are forgotten (retire_epochs).
  uint64_t oldest = keys_->epochs->current;
  if (!keys_->epochs->keys.empty()) oldest = std::min(oldest, keys_->epochs->keys.begin()->first);
  fns.replay_tag = [this, oldest](uint64_t epoch, const ReplayTag& tag) {
    if (epoch >= oldest) replay_.insert(epoch, tag);
  };
  fns.packet = [this, &packets](RecoveredPacket&& p) {
    next_item_ = std::max(next_item_, p.item + 1);
    Peer* next = peer_by_id(p.next_hop);
    if (next == nullptr || p.packet.size() != config_.packet_size) {
      metrics_.inc(next == nullptr ? Counter::packets_dropped_unknown_hop
                                   : Counter::packets_dropped_malformed);
      env_.journal.forget(p.item);
      return;
    }
    packets.push_back(Found{std::move(p), next});
  };
  fns.delivery = [this](uint64_t id, Bytes delivery) {
    if (!provider_) {
      env_.journal.forget_delivery(id);
      return;
    }
    provider_->next_delivery = std::max(provider_->next_delivery, id + 1);
    provider_->deliveries.emplace(id, PendingDelivery{std::move(delivery), kNever, 0});
    metrics_.inc(Counter::deliveries_recovered);
  };
  const JournalCheckpoint cp = env_.journal.recover(fns);
  if (provider_) provider_->next_delivery = std::max(provider_->next_delivery, cp.next_delivery_id);
  const Micros now = env_.clock.now();
  if (cp.mix_next_tick != kNoWallTime) mix_->resume_ticks(from_wall(cp.mix_next_tick), now);
  for (Found& f : packets) {
    mix_restore(f.next, std::move(f.packet.packet), f.packet.item, from_wall(f.packet.release_at));
  }
  metrics_.inc(Counter::packets_recovered, packets.size());
  arm_mix_timer();
  checkpoint_ = cp;
  retire_epochs();
  journal_commit(nullptr);  // what recovery forgot
}

// Stops taking work and lets the pool empty at its own schedule; stops when nothing is left to
// send or acknowledge, or at `timeout`, whichever is first. What is left stays in the journal.
void RelayState::drain(Micros timeout, std::function<void()> done) {
  if (stopped_ || draining_) return;
  draining_ = true;
  drained_ = std::move(done);
  if (peer_listener_) peer_listener_->close();
  if (provider_ && provider_->submit_listener) provider_->submit_listener->close();
  cover_timer_->cancel();
  for (auto& l : inbound_) {
    if (l->conn) l->conn->pause();
  }
  drain_timer_ = env_.clock.timer([this] { finish_drain(); });
  drain_timer_->arm_at(env_.clock.now() + std::max<Micros>(timeout, 0));
  check_drained();
}

bool RelayState::drained() const {
  if (!pool_.empty()) return false;
  for (const auto& p : peers_) {
    if (!p->unacked.empty() || !p->waiting.empty()) return false;
  }
  return !provider_ || provider_->deliveries.empty();
}

void RelayState::check_drained() {
  if (draining_ && !stopped_ && drained()) finish_drain();
}

// The forgets of the last acknowledgements are committed before the relay stops.
void RelayState::finish_drain() {
  if (stopped_) return;
  drain_timer_->cancel();
  stop();
  journal_commit([this] {
    if (auto done = std::move(drained_)) done();
  });
}

void RelayState::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (peer_listener_) peer_listener_->close();
  for (auto& p : peers_) {
    if (p->dialer) p->dialer->stop();
    if (p->conn) p->conn->close();
  }
  for (auto& l : inbound_) {
    if (l->conn) l->conn->close();
  }
  if (provider_) {
    if (provider_->submit_listener) provider_->submit_listener->close();
    std::vector<std::shared_ptr<FramedStream>> open;
    for (auto& [raw, sc] : provider_->submits) {
      if (sc->conn) open.push_back(sc->conn);
    }
    for (auto& c : open) c->close();
    if (provider_->deliver_dialer) provider_->deliver_dialer->stop();
    if (provider_->deliver_conn) provider_->deliver_conn->close();
    if (provider_->retry_timer) provider_->retry_timer->cancel();
  }
  mix_timer_->cancel();
  cover_timer_->cancel();
  epoch_timer_->cancel();
  limits_timer_->cancel();
  if (drain_timer_) drain_timer_->cancel();
}

Relay::Relay(RelayConfig config, RelayEnv env)
    : state_(std::make_unique<RelayState>(std::move(config), env)) {}

Relay::~Relay() = default;

void Relay::start() { state_->start(); }
void Relay::stop() { state_->stop(); }
void Relay::drain(Micros timeout, std::function<void()> done) {
  state_->drain(timeout, std::move(done));
}
bool Relay::draining() const { return state_->draining_ && !state_->stopped_; }
void Relay::on_epoch(std::function<void(uint64_t)> listener) {
  state_->epoch_listener_ = std::move(listener);
}
void Relay::on_event(std::function<void(const RelayEvent&)> listener) {
  state_->event_listener_ = std::move(listener);
}
const char* event_name(RelayEvent::Kind k) noexcept {
  switch (k) {
    case RelayEvent::Kind::peer_link_up: return "peer_link_up";
    case RelayEvent::Kind::peer_link_down: return "peer_link_down";
    case RelayEvent::Kind::deliver_link_up: return "deliver_link_up";
    case RelayEvent::Kind::deliver_link_down: return "deliver_link_down";
    case RelayEvent::Kind::loop_alarm_raised: return "loop_alarm_raised";
    case RelayEvent::Kind::loop_alarm_cleared: return "loop_alarm_cleared";
  }
  return "unknown";
}
uint64_t Relay::epoch() const { return state_->keys_->epochs->current; }
std::vector<std::string> Relay::update_directory(const RelayConfig& newer) {
  std::vector<std::string> restart = state_->update_directory(newer.directory, newer.epoch_timing);
  if (restart.empty() || restart.front() != "the epoch schedule changed") {
    state_->config_.directory = newer.directory;  // this relay's own entry included (status.cpp)
    state_->config_.directory_serial = newer.directory_serial;
    state_->config_.directory_valid_until = newer.directory_valid_until;
  }
  return restart;
}
void Relay::directory_refused() { state_->metrics_.inc(Counter::directory_refused); }
Role Relay::role() const { return state_->role_; }
uint16_t Relay::peer_port() const {
  return state_->peer_listener_ ? state_->peer_listener_->port() : 0;
}
uint16_t Relay::submit_port() const {
  const auto& p = state_->provider_;
  return p && p->submit_listener ? p->submit_listener->port() : 0;
}
const Metrics& Relay::metrics() const {
  Metrics& m = state_->metrics_;
  m.journal = state_->env_.journal.stats();
  m.links = state_->env_.security.stats();
  m.draining = state_->draining_;
  return m;
}

}  // namespace veil::relay

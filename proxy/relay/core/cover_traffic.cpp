// Beside relay.h's path: cover traffic. Drop and loop packets at Poisson rates, wrapped and mixed
// exactly like real ones; returned loops give loss and latency, whose alarm flags an n-1 attack.
#include <algorithm>
#include <cstring>

#include "proxy/relay/core/relay_state.h"
#include "relay.pb.h"

namespace veil::relay {

void RelayState::arm_cover_timer() {
  if (stopped_ || draining_) return;  // a drain sends what is pooled, nothing new
  const Micros next = std::min(drop_schedule_.next(), loop_schedule_.next());
  if (next == kNever) return;
  cover_timer_->arm_at(next);
}

void RelayState::on_cover_timer() {
  const Micros now = env_.clock.now();
  // Bounded catch-up: after a stall, at most 64 covers of each kind are sent at once.
  for (int i = 0; i < 64 && drop_schedule_.next() <= now; ++i) {
    send_drop_cover();
    drop_schedule_.advance();
  }
  while (drop_schedule_.next() <= now) drop_schedule_.advance();
  for (int i = 0; i < 64 && loop_schedule_.next() <= now; ++i) {
    send_loop_cover();
    loop_schedule_.advance();
  }
  while (loop_schedule_.next() <= now) loop_schedule_.advance();
  loops_.expire(now);
  const LoopStats st = loops_.stats();
  metrics_.counters[static_cast<int>(Counter::cover_loop_lost)] = st.lost_total;
  metrics_.loop_loss_ratio = st.loss_ratio;
  const bool alarm = loops_.alarm(config_.cover.alarm_loss, config_.cover.alarm_latency);
  if (alarm != metrics_.loop_alarm) {
    metrics_.loop_alarm = alarm;
    emit(alarm ? RelayEvent::Kind::loop_alarm_raised : RelayEvent::Kind::loop_alarm_cleared);
  }
  arm_cover_timer();
}

// Cover is not sent towards a first hop whose queue is half full (or unreachable for that long):
// it would only take the place of real packets, and nothing acknowledges it.
bool RelayState::congested(const Peer& first) const {
  return peer_load(first) >= std::max<std::size_t>(config_.per_peer_queue / 2, 1);
}

void RelayState::send_drop_cover() {
  std::vector<Peer*> providers;
  for (auto& p : peers_) {
    if (!p->config.is_mix()) providers.push_back(p.get());
  }
  if (providers.empty()) return;
  Peer* last = providers[env_.rng.uniform(providers.size())];
  std::vector<Peer*> path = choose_mixes(*keys_, env_.rng);
  if (mixes_unkeyed(path)) return;  // no mix has a key for this epoch
  path.push_back(last);
  if (congested(*path.front())) return;
  Bytes filler(64);
  env_.rng.fill(filler);
  auto packet = wrap_for(*keys_, path, crypto::HopCommand::drop, filler, env_.rng);
  if (!packet) return;
  metrics_.inc(Counter::cover_drop_sent);
  mix_add(path.front(), std::move(*packet), env_.clock.now(), false);
}

void RelayState::send_loop_cover() {
  // Out through the mixes (or another provider when there are none) and back to this relay.
  std::vector<Peer*> path = choose_mixes(*keys_, env_.rng);
  if (mixes_unkeyed(path)) return;  // no mix has a key for this epoch
  if (path.empty()) {
    std::vector<Peer*> others;
    for (auto& p : peers_) others.push_back(p.get());
    if (others.empty()) return;
    path.push_back(others[env_.rng.uniform(others.size())]);
  }
  if (congested(*path.front())) return;
  path.push_back(nullptr);  // this relay
  uint64_t id = 0;
  env_.rng.fill({reinterpret_cast<uint8_t*>(&id), sizeof id});
  veil::relay::Payload payload;
  payload.mutable_loop()->set_loop_id(&id, sizeof id);
  const std::string plain = payload.SerializeAsString();
  auto packet = wrap_for(*keys_, path, crypto::HopCommand::loop, as_bytes(plain), env_.rng);
  if (!packet) return;
  const Micros now = env_.clock.now();
  if (!loops_.sent(id, now)) return;
  metrics_.inc(Counter::cover_loop_sent);
  mix_add(path.front(), std::move(*packet), now, false);
}

void RelayState::on_loop_returned(ByteView plain) {
  veil::relay::Payload payload;
  uint64_t id = 0;
  if (plain.size() > INT32_MAX || !payload.ParseFromArray(plain.data(), static_cast<int>(plain.size())) ||
      !payload.has_loop() || payload.loop().loop_id().size() != sizeof id) {
    metrics_.inc(Counter::cover_loop_unknown);
    return;
  }
  std::memcpy(&id, payload.loop().loop_id().data(), sizeof id);
  auto latency = loops_.returned(id, env_.clock.now());
  if (!latency) {
    metrics_.inc(Counter::cover_loop_unknown);
    return;
  }
  metrics_.inc(Counter::cover_loop_returned);
  metrics_.loop_latency_us.observe(static_cast<double>(*latency));
}

}  // namespace veil::relay

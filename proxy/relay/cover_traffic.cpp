// Cover traffic: drop and loop packets at Poisson rates, wrapped and mixed exactly like real ones;
// returned loops give loss and latency, whose alarm flags an n-1 attack.
#include <algorithm>
#include <cstring>

#include "proxy/relay/relay.h"
#include "proxy/relay/relay_internal.h"
#include "relay.pb.h"

namespace veil::relay {

void Relay::arm_cover_timer() {
  if (stopped_) return;
  const Micros next = std::min(drop_schedule_.next(), loop_schedule_.next());
  if (next == kNever) return;
  const Micros now = clock_.now();
  const uint64_t delay_ms = next <= now ? 0 : static_cast<uint64_t>((next - now + 999) / 1000);
  uv_timer_start(&cover_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->on_cover_timer(); },
                 delay_ms, 0);
}

void Relay::on_cover_timer() {
  const Micros now = clock_.now();
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
  metrics_.counters[static_cast<int>(Counter::cover_loop_lost)] = st.lost;
  metrics_.loop_alarm = loops_.alarm(config_.cover.alarm_loss, config_.cover.alarm_latency);
  arm_cover_timer();
}

void Relay::send_drop_cover() {
  std::vector<Peer*> providers;
  for (auto& p : peers_) {
    if (!p->config.is_mix()) providers.push_back(p.get());
  }
  if (providers.empty()) return;
  Peer* last = providers[rng_.uniform(providers.size())];
  std::vector<Peer*> path = choose_mixes(nullptr, rng_);
  path.push_back(last);
  Bytes filler(64);
  rng_.fill(filler);
  auto packet = wrap_for(path, crypto::HopCommand::drop, filler, rng_);
  if (!packet) return;
  metrics_.inc(Counter::cover_drop_sent);
  mix_add(path.front(), std::move(*packet), clock_.now());
}

void Relay::send_loop_cover() {
  // Out through the mixes (or another provider when there are none) and back to this relay.
  std::vector<Peer*> path = choose_mixes(nullptr, rng_);
  if (path.empty()) {
    std::vector<Peer*> others;
    for (auto& p : peers_) others.push_back(p.get());
    if (others.empty()) return;
    path.push_back(others[rng_.uniform(others.size())]);
  }
  path.push_back(nullptr);  // this relay
  uint64_t id = 0;
  rng_.fill({reinterpret_cast<uint8_t*>(&id), sizeof id});
  veil::relay::Payload payload;
  payload.mutable_loop()->set_loop_id(&id, sizeof id);
  const std::string plain = payload.SerializeAsString();
  auto packet = wrap_for(path, crypto::HopCommand::loop, as_bytes(plain), rng_);
  if (!packet) return;
  const Micros now = clock_.now();
  if (!loops_.sent(id, now)) return;
  metrics_.inc(Counter::cover_loop_sent);
  mix_add(path.front(), std::move(*packet), now);
}

void Relay::on_loop_returned(ByteView plain) {
  veil::relay::Payload payload;
  uint64_t id = 0;
  if (plain.size() > INT32_MAX || !payload.ParseFromArray(plain.data(), static_cast<int>(plain.size())) ||
      !payload.has_loop() || payload.loop().loop_id().size() != sizeof id) {
    metrics_.inc(Counter::cover_loop_unknown);
    return;
  }
  std::memcpy(&id, payload.loop().loop_id().data(), sizeof id);
  auto latency = loops_.returned(id, clock_.now());
  if (!latency) {
    metrics_.inc(Counter::cover_loop_unknown);
    return;
  }
  metrics_.inc(Counter::cover_loop_returned);
  metrics_.loop_latency_us.observe(static_cast<double>(*latency));
}

}  // namespace veil::relay

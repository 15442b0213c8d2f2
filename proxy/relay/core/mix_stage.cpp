// Stage 2 of relay.h's path: the mix pool. Every packet that leaves this relay (submitted,
// forwarded or cover) waits here until the strategy (mix.h) releases it, then goes to link out.
// A journaled packet enters the mix only once the commit that holds it finished, so that its
// mixing delay starts then: nothing leaves before it is durable, and nothing leaves at the
// moment its own commit finished (when the acknowledgement for it goes back) for that reason.
#include <algorithm>

#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

void RelayState::mix_add(Peer* next, Bytes packet, Micros arrived, bool journaled) {
  const uint64_t id = next_item_++;
  ++next->in_pool;
  if (!journaled) {  // cover: mixed at once
    pool_.emplace(id, PoolItem{std::move(packet), next, arrived, 0, false, env_.clock.now()});
    mix_->add(id, env_.clock.now());
    metrics_.pool_now = pooled();
    arm_mix_timer();
    return;
  }
  env_.journal.record(id, next->config.id, kNoWallTime, packet);
  const uint64_t durable_at = commits_made_ + 1;  // the next commit covers this record
  pool_.emplace(id, PoolItem{std::move(packet), next, arrived, durable_at, true});
  not_mixed_.push_back(id);
}

// The items whose commit finished enter the mix; the release times the strategy gives them are
// journaled with the next commit (a crash before it: a fresh draw at recovery, which for an
// exponential delay is the same distribution as what was left of it).
void RelayState::mix_durable(uint64_t commit) {
  bool added = false;
  bool timed = false;
  while (!not_mixed_.empty()) {
    auto it = pool_.find(not_mixed_.front());
    if (it != pool_.end() && it->second.durable_at > commit) break;
    const uint64_t id = not_mixed_.front();
    not_mixed_.pop_front();
    if (it == pool_.end()) continue;
    it->second.mixed = env_.clock.now();
    const Micros due = mix_->add(id, it->second.mixed);
    if (due != kNever) {
      env_.journal.record_release(id, to_wall(due));
      timed = true;
    }
    added = true;
  }
  if (!added) return;
  metrics_.pool_now = pooled();
  if (mix_->next_deadline() <= env_.clock.now()) {
    on_mix_timer();  // due at once (none; Poisson with mean 0; a threshold reached): no loop turn
  } else {
    arm_mix_timer();
  }
  // The release times, or the tick schedule a first packet started: nothing waits for this commit.
  if (save_checkpoint() || timed) journal_commit(nullptr);
}

void RelayState::mix_restore(Peer* next, Bytes packet, uint64_t item, Micros due) {
  mix_->restore(item, due, env_.clock.now());
  ++next->in_pool;
  pool_.emplace(item, PoolItem{std::move(packet), next, env_.clock.now(), 0, true, env_.clock.now()});
  metrics_.pool_now = pooled();
}

std::size_t RelayState::pooled() const {
  std::size_t n = mix_->size();
  for (const auto& m : retiring_mixes_) n += m->size();
  return n;
}

// Packets of `from` join the current mix as arrivals: a release time the new mix gives them is
// journaled (with the next commit).
void RelayState::move_to_current_mix(Mix& from) {
  const Micros now = env_.clock.now();
  bool timed = false;
  for (uint64_t id : from.drain()) {
    const Micros due = mix_->add(id, now);
    auto it = pool_.find(id);
    if (due != kNever && it != pool_.end() && it->second.journaled) {
      env_.journal.record_release(id, to_wall(due));
      timed = true;
    }
  }
  if (save_checkpoint() || timed) journal_commit(nullptr);
}

// A retiring mix that will never release again by itself (a threshold pool below its threshold,
// a binomial pool down to min_pool: only arrivals could move them, and it gets none) hands its
// packets to the current mix; empty ones go.
void RelayState::settle_retiring_mixes() {
  for (auto& m : retiring_mixes_) {
    if (m->size() > 0 && m->next_deadline() == kNever) move_to_current_mix(*m);
  }
  std::erase_if(retiring_mixes_, [](const std::unique_ptr<Mix>& m) { return m->size() == 0; });
}

// New packets enter the new mix at once. A pooled packet keeps its release time: the old mix keeps
// releasing under its own rule and schedule until it is empty, except what it would never release
// without arrivals (settle_retiring_mixes), and a none pool's packets, which join the new mix.
void RelayState::replace_mix(const MixConfig& next) {
  auto made = make_mix(next, env_.rng);
  if (!made) return;  // validate_mix passed at build_config: not reached
  std::unique_ptr<Mix> old = std::move(mix_);
  mix_ = std::move(*made);
  if (config_.mix.strategy == MixConfig::Strategy::none) {
    move_to_current_mix(*old);
  } else if (old->size() > 0) {
    retiring_mixes_.push_back(std::move(old));
  }
  config_.mix = next;
  settle_retiring_mixes();
  metrics_.pool_now = pooled();
  const Micros now = env_.clock.now();
  if (mix_->size() > 0 && mix_->next_deadline() <= now) {
    on_mix_timer();
  } else {
    arm_mix_timer();
  }
}

void RelayState::arm_mix_timer() {
  if (stopped_) return;
  Micros deadline = mix_->next_deadline();
  for (const auto& m : retiring_mixes_) deadline = std::min(deadline, m->next_deadline());
  if (deadline == kNever) {
    mix_timer_->cancel();
    return;
  }
  mix_timer_->arm_at(deadline);
}

void RelayState::on_mix_timer() {
  const Micros now = env_.clock.now();
  const std::size_t before = pooled();
  std::vector<uint64_t> out;
  for (auto& m : retiring_mixes_) {
    std::vector<uint64_t> ids = m->release(now);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  settle_retiring_mixes();
  std::vector<uint64_t> current = mix_->release(now);
  out.insert(out.end(), current.begin(), current.end());
  if (!out.empty()) {
    metrics_.pool_size.observe(static_cast<double>(before));
    metrics_.batch_size.observe(static_cast<double>(out.size()));
  }
  for (uint64_t id : out) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    PoolItem item = std::move(it->second);
    pool_.erase(it);
    --item.next->in_pool;
    metrics_.relay_latency_us.observe(static_cast<double>(now - item.arrived));
    metrics_.mix_delay_us.observe(static_cast<double>(now - item.mixed));
    send_to_peer(*item.next, std::move(item.packet), item.journaled ? id : 0);
  }
  metrics_.pool_now = pooled();
  arm_mix_timer();
  check_drained();
}

}  // namespace veil::relay

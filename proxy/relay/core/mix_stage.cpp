// Stage 2 of relay.h's path: the mix pool. Every packet that leaves this relay (submitted,
// forwarded or cover) waits here until the strategy (mix.h) releases it, then goes to link out,
// once the journal commit that holds it has finished.
#include <algorithm>

#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

void RelayState::mix_add(Peer* next, Bytes packet, Micros arrived, bool journaled) {
  const uint64_t id = next_item_++;
  const Micros due = mix_->add(id, env_.clock.now());
  uint64_t durable_at = 0;
  if (journaled) {
    env_.journal.record(id, next->config.id, to_wall(due), packet);
    durable_at = commits_made_ + 1;  // the next commit covers this record
  }
  ++next->in_pool;
  pool_.emplace(id, PoolItem{std::move(packet), next, arrived, durable_at, journaled});
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
}

void RelayState::mix_restore(Peer* next, Bytes packet, uint64_t item, Micros due) {
  mix_->restore(item, due, env_.clock.now());
  ++next->in_pool;
  pool_.emplace(item, PoolItem{std::move(packet), next, env_.clock.now(), 0, true});
  metrics_.pool_now = mix_->size();
}

void RelayState::arm_mix_timer() {
  if (stopped_) return;
  const Micros deadline = mix_->next_deadline();
  if (deadline == kNever) {
    mix_timer_->cancel();
    return;
  }
  mix_timer_->arm_at(deadline);
}

// One release (a flush, a round or the packets due now) leaves together, in the strategy's
// order: if one of its packets is not durable yet, all of them wait for that commit. (Holding back
// only that one would send it last, every time: the newest arrival would be linkable.)
void RelayState::on_mix_timer() {
  const Micros now = env_.clock.now();
  const std::size_t before = mix_->size();
  std::vector<uint64_t> out = mix_->release(now);
  if (!out.empty()) metrics_.pool_size.observe(static_cast<double>(before));
  uint64_t durable_at = 0;
  for (uint64_t id : out) {
    auto it = pool_.find(id);
    if (it != pool_.end()) durable_at = std::max(durable_at, it->second.durable_at);
  }
  const bool hold = durable_at > commits_durable_;
  for (uint64_t id : out) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    PoolItem item = std::move(it->second);
    pool_.erase(it);
    metrics_.relay_latency_us.observe(static_cast<double>(now - item.arrived));
    const uint64_t journal_item = item.journaled ? id : 0;
    if (hold) {  // still counted in in_pool until sent
      held_.push_back(HeldPacket{item.next, std::move(item.packet), journal_item, durable_at});
    } else {
      --item.next->in_pool;
      send_to_peer(*item.next, std::move(item.packet), journal_item);
    }
  }
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
  check_drained();
}

}  // namespace veil::relay

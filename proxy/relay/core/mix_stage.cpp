// Stage 2 of relay.h's path: the mix pool. Every packet that leaves this relay (submitted,
// forwarded or cover) waits here until the strategy (mix.h) releases it, then goes to link out.
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

// `journal_item` ≠ 0: a packet recovered from the journal under that item.
void RelayState::mix_add(Peer* next, Bytes packet, Micros arrived, uint64_t journal_item) {
  const uint64_t id = journal_item != 0 ? journal_item : next_item_++;
  if (journal_item == 0) env_.journal.record(id, next->config.id, packet);
  ++next->in_pool;
  pool_.emplace(id, PoolItem{std::move(packet), next, arrived});
  mix_->add(id, env_.clock.now());
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
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

void RelayState::on_mix_timer() {
  const Micros now = env_.clock.now();
  const std::size_t before = mix_->size();
  std::vector<uint64_t> out = mix_->release(now);
  if (!out.empty()) metrics_.pool_size.observe(static_cast<double>(before));
  for (uint64_t id : out) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    PoolItem item = std::move(it->second);
    pool_.erase(it);
    --item.next->in_pool;
    metrics_.relay_latency_us.observe(static_cast<double>(now - item.arrived));
    send_to_peer(*item.next, std::move(item.packet), id);
  }
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
}

}  // namespace veil::relay

// Journal commits and what waits for them: packets enter the mix and deliveries are sent only once
// the commit that holds them finished; the checkpoint (next delivery id, mix tick) goes with each
// commit; inbound links pause while the relay cannot take more.
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

void RelayState::journal_commit(std::function<void()> then) {
  save_checkpoint();
  const uint64_t commit = ++commits_made_;
  env_.journal.commit([this, commit, then = std::move(then)] {
    on_durable(commit);
    if (then) then();
  });
}

bool RelayState::save_checkpoint() {
  JournalCheckpoint now;
  now.next_delivery_id = provider_ ? provider_->next_delivery : 1;
  now.mix_next_tick = to_wall(mix_->next_tick());
  if (now.next_delivery_id == checkpoint_.next_delivery_id &&
      now.mix_next_tick == checkpoint_.mix_next_tick) {
    return false;
  }
  checkpoint_ = now;
  env_.journal.record_checkpoint(now);
  return true;
}

// Commits finish in order: everything recorded before commit number `commit` is durable now.
void RelayState::on_durable(uint64_t commit) {
  commits_durable_ = commit;
  mix_durable(commit);
  if (provider_) {
    ProviderSide& ps = *provider_;
    const bool up = ps.deliver_conn && !ps.deliver_conn->closed();
    while (!ps.not_durable.empty()) {
      auto it = ps.deliveries.find(ps.not_durable.front());
      if (it != ps.deliveries.end() && it->second.durable_at > commit) break;
      ps.not_durable.pop_front();
      if (it == ps.deliveries.end() || !up || stopped_) continue;
      ps.deliver_conn->send(it->second.frame);
      it->second.sent_at = env_.clock.now();
      metrics_.inc(Counter::deliveries_sent);
    }
  }
  maybe_resume_inbound();
  check_drained();
}

// The journal keeps wall-clock times: this run's monotonic clock means nothing to the next run.
// One offset per run (read at construction): no clock read per packet, and a tick schedule
// converts to the same wall time at every commit.
WallMicros RelayState::to_wall(Micros t) const { return t == kNever ? kNoWallTime : t + wall_offset_; }

Micros RelayState::from_wall(WallMicros t) const { return t == kNoWallTime ? kNever : t - wall_offset_; }

bool RelayState::inbound_blocked() const {
  if (draining_ || env_.journal.failing()) return true;
  if (provider_) return provider_->deliveries.size() >= config_.per_peer_queue;
  // A mix: what it reads from its links is what fills its queues to next hops. (A provider's
  // queues fill with submissions, which are answered busy at the bound.)
  for (const auto& p : peers_) {
    if (peer_load(*p) >= config_.per_peer_queue) return true;
  }
  return false;
}

// Resumes reading once every bound has room for half of it again (no resume per acknowledgement
// at the edge of a bound).
void RelayState::maybe_resume_inbound() {
  if (stopped_ || draining_ || env_.journal.failing()) return;
  const std::size_t half = config_.per_peer_queue / 2;
  if (provider_) {
    if (provider_->deliveries.size() > half) return;
  } else {
    for (const auto& p : peers_) {
      if (peer_load(*p) > half) return;
    }
  }
  for (const auto& l : inbound_) {
    if (l->conn && !l->conn->closed() && !l->batches.full()) l->conn->resume();
  }
}

}  // namespace veil::relay

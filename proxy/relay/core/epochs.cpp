// Epoch switches: the relay's key snapshot is rebuilt at each change of the held epochs (a switch,
// or the end of the overlap), pairwise keys follow, and what is older than the held keys is wiped
// with its replay tags (docs/packet-format.md, "Epochs").
#include <limits>

#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

const PairKeys* RelayKeys::pair(const Peer& p, uint64_t epoch) const {
  if (p.index >= pairwise.size()) return nullptr;
  const auto& m = pairwise[p.index];
  auto it = m.find(epoch);
  return it == m.end() ? nullptr : &it->second;
}

const crypto::PublicKey* RelayKeys::published_key(const Peer& p, uint64_t epoch) const {
  if (p.index >= published.size()) return nullptr;
  const auto& m = published[p.index];
  auto it = m.find(epoch);
  return it == m.end() ? nullptr : &it->second;
}

// Peers' configs change only here and at construction (on the loop thread); workers read the
// published keys from the snapshot.
std::shared_ptr<const RelayKeys> RelayState::build_keys(int64_t now) const {
  auto k = std::make_shared<RelayKeys>();
  k->epochs = make_epoch_view(config_.epoch_timing, now, keys_ ? keys_->epochs.get() : nullptr,
                              env_.keys);
  k->pairwise.resize(peers_.size());
  k->published.resize(peers_.size());
  for (const auto& p : peers_) {
    k->published[p->index] = p->config.epoch_keys;
    for (const auto& [e, own] : k->epochs->keys) {
      auto theirs = p->config.epoch_keys.find(e);
      if (theirs == p->config.epoch_keys.end()) continue;
      const PairKeys* had = keys_ ? keys_->pair(*p, e) : nullptr;
      const crypto::PublicKey* had_key = keys_ ? keys_->published_key(*p, e) : nullptr;
      if (had != nullptr && had_key != nullptr && *had_key == theirs->second) {
        k->pairwise[p->index].emplace(e, *had);
        continue;
      }
      auto send = crypto::derive_pairwise_key(*own, theirs->second, true, e);
      auto recv = crypto::derive_pairwise_key(*own, theirs->second, false, e);
      if (send && recv) k->pairwise[p->index].emplace(e, PairKeys{*send, *recv});
    }
  }
  return k;
}

std::vector<std::string> RelayState::update_directory(const std::vector<PeerConfig>& directory,
                                                      const EpochTiming& timing) {
  std::vector<std::string> restart;
  if (timing.genesis != config_.epoch_timing.genesis || timing.length != config_.epoch_timing.length) {
    restart.push_back("the epoch schedule changed");
    return restart;
  }
  std::map<std::string, const PeerConfig*> listed;
  for (const PeerConfig& pc : directory) {
    if (pc.id != config_.id) listed.emplace(pc.name, &pc);
  }
  for (auto& p : peers_) {
    auto it = listed.find(p->config.name);
    if (it == listed.end()) {
      // Off every path at once (no published key); its links stay until the restart.
      p->config.epoch_keys.clear();
      restart.push_back("relay " + p->config.name + " left the directory");
      continue;
    }
    const PeerConfig& n = *it->second;
    if (!(n.identity == p->config.identity) || n.host != p->config.host || n.port != p->config.port ||
        n.providers != p->config.providers) {
      restart.push_back("relay " + n.name + " changed its identity key, address or providers");
    } else {
      p->config.epoch_keys = n.epoch_keys;
    }
    listed.erase(it);
  }
  for (const auto& [name, pc] : listed) restart.push_back("relay " + name + " joined the directory");
  metrics_.inc(Counter::directory_updates);
  refresh_keys();
  return restart;
}

// Epochs follow the wall clock (the network's schedule), read afresh at each change: a monotonic
// clock stops during a host suspend and never sees the system clock set. The timer is for the
// first change after the time the key snapshot is of, not after a later reading: a timer may fire
// a little early, and a reading taken after the snapshot's could already be past the switch the
// snapshot lacks (the timer would then wait for the end of the overlap). A change already due
// fires at once.
void RelayState::arm_epoch_timer() {
  const int64_t at = next_epoch_change(config_.epoch_timing, keys_->epochs->made_at);
  if (at == std::numeric_limits<int64_t>::max()) return;
  const int64_t wall = env_.clock.wall_us();
  epoch_timer_->arm_at(env_.clock.now() + std::max<int64_t>(at - wall, 0));
}

void RelayState::on_epoch_timer() {
  if (!stopped_) refresh_keys();
}

// A new snapshot for now: the epoch switch (counted, said to the listener) or the end of the
// overlap (the old key and its tags go), whichever came; then the timer for the next change.
void RelayState::refresh_keys() {
  const uint64_t before = keys_->epochs->current;
  keys_ = build_keys(env_.clock.wall_us());
  const uint64_t current = keys_->epochs->current;
  if (current != before) metrics_.inc(Counter::epoch_switches);
  metrics_.epoch = current;
  retire_epochs();
  journal_commit(nullptr);  // the forgotten replay tags
  arm_epoch_timer();
  if (current != before && epoch_listener_) epoch_listener_(current);
}

// Replay tags are kept for the epochs whose keys are held; a layer under an older epoch is
// refused before its tag is looked at, so the older tags, and the keys, can go.
void RelayState::retire_epochs() {
  const EpochView& v = *keys_->epochs;
  uint64_t below = v.current;
  if (!v.keys.empty()) below = std::min(below, v.keys.begin()->first);
  if (below <= retired_below_) return;
  retired_below_ = below;
  replay_.retire_epochs_before(below);
  env_.journal.forget_replay_epochs_before(below);
  env_.keys.wipe_before(below);
}

Result<crypto::Unwrapped> RelayState::unwrap_layer(const PacketBatch& b, ByteView packet,
                                                   uint64_t& epoch, bool& pairwise_layer) {
  const EpochView& v = *b.keys->epochs;
  const auto e = v.epoch_of_parity(crypto::layer_epoch_parity(packet), b.wall);
  if (!e) return Error::decryption_failed;  // the fixed epoch's parity is the other one
  epoch = *e;
  const crypto::KeyPair* own = v.key(*e);
  const PairKeys* pair = b.peer != nullptr ? b.keys->pair(*b.peer, *e) : nullptr;
  if (own == nullptr && pair == nullptr) {
    return *e < v.current ? Error::epoch_expired : Error::decryption_failed;
  }
  Result<crypto::Unwrapped> layer = Error::decryption_failed;
  if (pair != nullptr && !b.onion_first) {
    layer = crypto::unwrap_pairwise(packet, pair->recv);
    pairwise_layer = layer.ok();
  }
  if (!layer && own != nullptr) layer = crypto::unwrap_onion(packet, *own);
  if (!layer && pair != nullptr && b.onion_first) {
    layer = crypto::unwrap_pairwise(packet, pair->recv);
    pairwise_layer = layer.ok();
  }
  return layer;
}

}  // namespace veil::relay

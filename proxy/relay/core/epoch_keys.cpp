// Epoch arithmetic, key views and the in-memory key source.
#include "proxy/relay/core/epoch_keys.h"

#include <limits>

namespace veil::relay {

uint64_t epoch_at(const EpochTiming& t, int64_t now) {
  if (t.length <= 0) return t.fixed;
  if (now < t.genesis) return 0;
  return static_cast<uint64_t>((now - t.genesis) / t.length);
}

int64_t epoch_start(const EpochTiming& t, uint64_t e) {
  if (t.length <= 0) return t.genesis;
  const auto max_e = static_cast<uint64_t>((std::numeric_limits<int64_t>::max() - t.genesis) / t.length);
  if (e > max_e) return std::numeric_limits<int64_t>::max();
  return t.genesis + static_cast<int64_t>(e) * t.length;
}

int64_t next_epoch_change(const EpochTiming& t, int64_t now) {
  if (t.length <= 0) return std::numeric_limits<int64_t>::max();
  if (now < t.genesis) return t.genesis;
  const uint64_t e = epoch_at(t, now);
  const int64_t start = epoch_start(t, e);
  if (e > 0 && now < start + t.overlap) return start + t.overlap;
  return epoch_start(t, e + 1);
}

void MemoryEpochKeys::add(uint64_t epoch, const crypto::KeyPair& key) {
  keys_.insert_or_assign(
      epoch, crypto::KeyPair::from_private(crypto::PrivateKey::parse(key.priv.raw()).value()));
}

std::optional<crypto::KeyPair> MemoryEpochKeys::key(uint64_t epoch) {
  auto it = keys_.find(epoch);
  if (it == keys_.end()) return std::nullopt;
  return crypto::KeyPair::from_private(crypto::PrivateKey::parse(it->second.priv.raw()).value());
}

void MemoryEpochKeys::wipe_before(uint64_t epoch) {
  keys_.erase(keys_.begin(), keys_.lower_bound(epoch));
}

std::optional<uint64_t> EpochView::epoch_of_parity(unsigned parity, int64_t now) const {
  if ((current & 1) == parity) return current;
  if (timing.length <= 0) return std::nullopt;
  if (now - current_start < timing.length / 2) {
    if (current == 0) return std::nullopt;
    return current - 1;
  }
  return current + 1;
}

const crypto::KeyPair* EpochView::key(uint64_t epoch) const {
  auto it = keys.find(epoch);
  return it == keys.end() ? nullptr : it->second.get();
}

std::shared_ptr<const EpochView> make_epoch_view(const EpochTiming& timing, int64_t now,
                                                 const EpochView* previous, EpochKeySource& source) {
  auto v = std::make_shared<EpochView>();
  v->timing = timing;
  v->made_at = now;
  v->current = epoch_at(timing, now);
  v->current_start = epoch_start(timing, v->current);
  std::vector<uint64_t> wanted{v->current};
  if (timing.length > 0) {
    if (v->current > 0 && now < v->current_start + timing.overlap) wanted.push_back(v->current - 1);
    wanted.push_back(v->current + 1);
  }
  for (uint64_t e : wanted) {
    if (previous != nullptr) {
      if (auto it = previous->keys.find(e); it != previous->keys.end()) {
        v->keys.emplace(e, it->second);
        continue;
      }
    }
    if (auto k = source.key(e)) v->keys.emplace(e, std::make_shared<const crypto::KeyPair>(std::move(*k)));
  }
  return v;
}

}  // namespace veil::relay

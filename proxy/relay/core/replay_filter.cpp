// Replay filter: per-epoch open-addressing tables of 16-byte tags with a keyed probe hash.
#include "proxy/relay/core/replay_filter.h"

#include <cstring>

namespace veil::relay {
namespace {

constexpr std::size_t kInitialSlots = 64;

ReplayFilter::Tag zero_tag() { return {}; }

}  // namespace

ReplayFilter::ReplayFilter(std::size_t max_entries_per_epoch, Rng& rng)
    : max_per_epoch_(max_entries_per_epoch) {
  uint64_t key[2] = {};
  rng.fill({reinterpret_cast<uint8_t*>(key), sizeof key});
  key0_ = key[0];
  key1_ = key[1] | 1;  // odd: a bijective multiplier
}

std::size_t ReplayFilter::home(const Slot& s, std::size_t mask) const {
  uint64_t h = (s.lo ^ key0_) * 0x9e3779b97f4a7c15ULL;
  h ^= s.hi;
  h *= key1_;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return static_cast<std::size_t>(h >> 32) & mask;
}

void ReplayFilter::grow(Table& t) const {
  std::vector<Slot> old;
  old.swap(t.slots);
  t.slots.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{});
  const std::size_t mask = t.slots.size() - 1;
  for (const Slot& s : old) {
    if (s.lo == 0 && s.hi == 0) continue;
    std::size_t i = home(s, mask);
    while (t.slots[i].lo != 0 || t.slots[i].hi != 0) i = (i + 1) & mask;
    t.slots[i] = s;
  }
}

ReplayFilter::Verdict ReplayFilter::insert(uint64_t epoch, const Tag& tag) {
  if (epoch < retired_below_) {
    ++retired_rejects_;
    return Verdict::retired;
  }
  Table& t = epochs_[epoch];
  Slot s;
  std::memcpy(&s.lo, tag.data(), 8);
  std::memcpy(&s.hi, tag.data() + 8, 8);
  const bool is_zero = tag == zero_tag();

  // Lookup first, so that a replay is reported as such even when the epoch is full.
  std::size_t slot = 0;
  if (is_zero) {
    if (t.has_zero) {
      ++replays_;
      return Verdict::replayed;
    }
  } else if (!t.slots.empty()) {
    const std::size_t mask = t.slots.size() - 1;
    std::size_t i = home(s, mask);
    for (; t.slots[i].lo != 0 || t.slots[i].hi != 0; i = (i + 1) & mask) {
      if (t.slots[i].lo == s.lo && t.slots[i].hi == s.hi) {
        ++replays_;
        return Verdict::replayed;
      }
    }
    slot = i;
  }
  if (t.count >= max_per_epoch_) {
    ++full_rejects_;
    return Verdict::full;
  }
  ++t.count;
  if (is_zero) {
    t.has_zero = true;
    return Verdict::fresh;
  }
  if (t.slots.empty() || 4 * t.count > 3 * t.slots.size()) {  // keep load ≤ 3/4
    grow(t);
    const std::size_t mask = t.slots.size() - 1;
    slot = home(s, mask);
    while (t.slots[slot].lo != 0 || t.slots[slot].hi != 0) slot = (slot + 1) & mask;
  }
  t.slots[slot] = s;
  return Verdict::fresh;
}

void ReplayFilter::retire_epochs_before(uint64_t epoch) {
  if (epoch > retired_below_) retired_below_ = epoch;
  epochs_.erase(epochs_.begin(), epochs_.lower_bound(retired_below_));
}

std::size_t ReplayFilter::size() const {
  std::size_t n = 0;
  for (const auto& [epoch, t] : epochs_) n += t.count;
  return n;
}

std::size_t ReplayFilter::epoch_size(uint64_t epoch) const {
  auto it = epochs_.find(epoch);
  return it == epochs_.end() ? 0 : it->second.count;
}

std::size_t ReplayFilter::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& [epoch, t] : epochs_) bytes += t.slots.capacity() * sizeof(Slot) + sizeof t;
  return bytes;
}

}  // namespace veil::relay

// Replay filter: duplicates per epoch, retirement, the full-epoch policy, and memory per entry.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <ostream>
#include <vector>

#include "base/rng.h"
#include "proxy/relay/core/replay_filter.h"
#include "test_support.h"

namespace veil::relay {
// For BOOST_TEST's failure messages.
std::ostream& operator<<(std::ostream& os, ReplayFilter::Verdict v) {
  constexpr const char* kNames[] = {"fresh", "replayed", "full", "retired"};
  return os << kNames[static_cast<int>(v)];
}
}  // namespace veil::relay

using namespace veil;
using namespace veil::relay;
using Tag = ReplayFilter::Tag;
using Verdict = ReplayFilter::Verdict;

namespace {

Tag random_tag(Rng& rng) {
  Tag t;
  rng.fill(t);
  return t;
}

Tag tag_of(uint64_t lo, uint64_t hi) {
  Tag t{};
  for (int i = 0; i < 8; ++i) {
    t[static_cast<std::size_t>(i)] = static_cast<uint8_t>(lo >> (8 * i));
    t[static_cast<std::size_t>(8 + i)] = static_cast<uint8_t>(hi >> (8 * i));
  }
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_filter)

BOOST_AUTO_TEST_CASE(a_tag_is_accepted_once_per_epoch) {
  SeededRng rng(1);
  ReplayFilter f(1000, rng);
  const Tag a = random_tag(rng), b = random_tag(rng);
  BOOST_TEST(f.check_and_insert(7, a));
  BOOST_TEST(!f.check_and_insert(7, a));
  BOOST_TEST(f.insert(7, a) == Verdict::replayed);
  BOOST_TEST(f.check_and_insert(7, b));
  BOOST_TEST(f.check_and_insert(8, a));  // another epoch key: another tag space
  BOOST_TEST(!f.check_and_insert(8, a));
  BOOST_TEST(f.size() == 3u);
  BOOST_TEST(f.epoch_size(7) == 2u);
  BOOST_TEST(f.epoch_size(8) == 1u);
  BOOST_TEST(f.epoch_size(9) == 0u);
  BOOST_TEST(f.replays() == 3u);
  BOOST_TEST(f.full_rejects() == 0u);
}

BOOST_AUTO_TEST_CASE(tags_differing_in_one_bit_or_sharing_a_half_are_distinct) {
  SeededRng rng(2);
  ReplayFilter f(100'000, rng);
  const Tag base = random_tag(rng);
  BOOST_TEST(f.check_and_insert(1, base));
  for (std::size_t byte = 0; byte < 16; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Tag t = base;
      t[byte] = static_cast<uint8_t>(t[byte] ^ (1u << bit));
      BOOST_TEST_CONTEXT("byte " << byte << " bit " << bit) { BOOST_TEST(f.check_and_insert(1, t)); }
    }
  }
  // Same first 8 bytes, different last 8 (and vice versa): still exact.
  for (uint64_t i = 1; i <= 1000; ++i) {
    BOOST_REQUIRE(f.check_and_insert(2, tag_of(42, i)));
    BOOST_REQUIRE(f.check_and_insert(2, tag_of(i, 5000)));
  }
  for (uint64_t i = 1; i <= 1000; ++i) BOOST_REQUIRE(!f.check_and_insert(2, tag_of(42, i)));
  BOOST_TEST(f.epoch_size(2) == 2000u);
}

BOOST_AUTO_TEST_CASE(the_all_zero_tag_is_remembered_too) {
  SeededRng rng(7);
  ReplayFilter f(10, rng);
  const Tag zero{};
  BOOST_TEST(f.check_and_insert(1, zero));
  BOOST_TEST(!f.check_and_insert(1, zero));
  BOOST_TEST(f.check_and_insert(2, zero));
  BOOST_TEST(f.size() == 2u);
}

BOOST_AUTO_TEST_CASE(retired_epochs_are_forgotten_and_stay_closed) {
  SeededRng rng(3);
  ReplayFilter f(1000, rng);
  const Tag a = random_tag(rng);
  for (uint64_t e = 1; e <= 4; ++e) BOOST_TEST(f.check_and_insert(e, a));
  for (int i = 0; i < 10; ++i) BOOST_TEST(f.check_and_insert(3, random_tag(rng)));
  BOOST_TEST(f.size() == 14u);
  const std::size_t bytes_before = f.memory_bytes();

  f.retire_epochs_before(3);
  BOOST_TEST(f.size() == 12u);
  BOOST_TEST(f.epoch_size(1) == 0u);
  BOOST_TEST(f.epoch_size(3) == 11u);
  BOOST_TEST(f.memory_bytes() < bytes_before);
  // An old epoch is not re-opened: its tags would otherwise be replayable.
  BOOST_TEST(f.insert(1, a) == Verdict::retired);
  BOOST_TEST(f.insert(2, random_tag(rng)) == Verdict::retired);
  BOOST_TEST(f.retired_rejects() == 2u);
  BOOST_TEST(f.size() == 12u);
  BOOST_TEST(!f.check_and_insert(3, a));
  BOOST_TEST(!f.check_and_insert(4, a));

  f.retire_epochs_before(2);  // never moves backwards
  BOOST_TEST(f.insert(2, random_tag(rng)) == Verdict::retired);
  f.retire_epochs_before(100);
  BOOST_TEST(f.size() == 0u);
  BOOST_TEST(f.memory_bytes() == 0u);
  BOOST_TEST(f.check_and_insert(100, a));
}

BOOST_AUTO_TEST_CASE(a_full_epoch_rejects_new_tags_and_counts_them) {
  SeededRng rng(4);
  ReplayFilter f(100, rng);
  std::vector<Tag> tags;
  for (int i = 0; i < 100; ++i) {
    tags.push_back(random_tag(rng));
    BOOST_REQUIRE(f.check_and_insert(5, tags.back()));
  }
  BOOST_TEST(f.epoch_size(5) == 100u);
  const Tag extra = random_tag(rng);
  BOOST_TEST(f.insert(5, extra) == Verdict::full);
  BOOST_TEST(!f.check_and_insert(5, extra));
  BOOST_TEST(f.full_rejects() == 2u);
  // A replay is still reported as a replay, not as "full".
  BOOST_TEST(f.insert(5, tags[17]) == Verdict::replayed);
  BOOST_TEST(f.full_rejects() == 2u);
  BOOST_TEST(f.replays() == 1u);
  BOOST_TEST(f.epoch_size(5) == 100u);
  // The limit is per epoch.
  BOOST_TEST(f.check_and_insert(6, extra));

  ReplayFilter none(0, rng);
  BOOST_TEST(none.insert(1, extra) == Verdict::full);
  BOOST_TEST(none.insert(1, Tag{}) == Verdict::full);
}

BOOST_AUTO_TEST_CASE(many_random_tags_no_false_positives_and_memory_per_entry) {
  // Fills one epoch to 2^18 tags; at 33 log-spaced sizes (ratio 2^(1/4)) from 1000 to 2^18
  // measures memory_bytes()/size(), i.e. averages over table sizes uniformly in log scale.
  // Bounds: 16 B / (3/4) just before a doubling, 16 B / (3/8) right after, plus the table header.
  SeededRng rng(5);
  ReplayFilter f(2'000'000, rng);
  const std::size_t n = 1 << 18;
  std::vector<uint8_t> bytes(n * 16);
  rng.fill(bytes);  // one call for all tags
  std::vector<Tag> tags(n);
  for (std::size_t i = 0; i < n; ++i) std::memcpy(tags[i].data(), bytes.data() + 16 * i, 16);
  double sum_ratio = 0, min_ratio = 1e9, max_ratio = 0;
  int samples = 0;
  double next_sample = 1000;
  std::size_t fresh = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    fresh += f.check_and_insert(9, tags[i - 1]);
    if (static_cast<double>(i) >= next_sample) {
      const double ratio = static_cast<double>(f.memory_bytes()) / static_cast<double>(f.size());
      sum_ratio += ratio;
      min_ratio = std::min(min_ratio, ratio);
      max_ratio = std::max(max_ratio, ratio);
      ++samples;
      next_sample *= std::pow(2.0, 0.25);
    }
  }
  BOOST_TEST(fresh == n);
  BOOST_TEST(f.size() == n);
  BOOST_TEST(samples == 33);
  const double mean_ratio = sum_ratio / samples;
  BOOST_TEST_MESSAGE("replay filter bytes/entry: mean " << mean_ratio << " min " << min_ratio
                                                        << " max " << max_ratio);
  BOOST_TEST(min_ratio >= 16.0 / 0.75);
  BOOST_TEST(max_ratio <= 16.0 / 0.375 + 0.1);
  BOOST_TEST(mean_ratio < 32.0);
  // Every tag is now a replay.
  std::size_t replayed = 0;
  for (const Tag& t : tags) replayed += !f.check_and_insert(9, t);
  BOOST_TEST(replayed == n);
  BOOST_TEST(f.replays() == n);
  BOOST_TEST(f.size() == n);
}

BOOST_AUTO_TEST_SUITE_END()

// Epoch arithmetic and key views: boundaries, the overlap, which epoch a head's parity names, and
// the fixed schedule of a static directory.
#include <boost/test/unit_test.hpp>

#include <limits>

#include "base/rng.h"
#include "proxy/relay/core/epoch_keys.h"

using namespace veil;
using namespace veil::relay;

namespace {
constexpr int64_t kGenesis = 1'700'000'000'000'000;  // wall µs
constexpr Micros kLength = 3'600'000'000;             // one hour
constexpr Micros kOverlap = 600'000'000;              // ten minutes
const EpochTiming kTiming{kGenesis, kLength, kOverlap, 0};

MemoryEpochKeys keys_for(std::initializer_list<uint64_t> epochs) {
  SeededRng rng(7);
  MemoryEpochKeys k;
  for (uint64_t e : epochs) k.add(e, crypto::KeyPair::generate(rng));
  return k;
}

std::vector<uint64_t> held(const EpochView& v) {
  std::vector<uint64_t> out;
  for (const auto& [e, k] : v.keys) out.push_back(e);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(epoch_keys)

BOOST_AUTO_TEST_CASE(epoch_boundaries_are_exact) {
  BOOST_TEST(epoch_at(kTiming, kGenesis) == 0u);
  BOOST_TEST(epoch_at(kTiming, kGenesis + kLength - 1) == 0u);
  BOOST_TEST(epoch_at(kTiming, kGenesis + kLength) == 1u);
  BOOST_TEST(epoch_at(kTiming, kGenesis - 1) == 0u);  // before genesis: epoch 0
  BOOST_TEST(epoch_start(kTiming, 5) == kGenesis + 5 * kLength);
  BOOST_TEST(epoch_start(kTiming, std::numeric_limits<uint64_t>::max()) ==
             std::numeric_limits<int64_t>::max());
  const EpochTiming fixed{0, 0, 0, 42};
  BOOST_TEST(epoch_at(fixed, kGenesis) == 42u);
  BOOST_TEST(next_epoch_change(fixed, kGenesis) == std::numeric_limits<int64_t>::max());
}

BOOST_AUTO_TEST_CASE(changes_come_at_each_switch_and_at_the_end_of_each_overlap) {
  BOOST_TEST(next_epoch_change(kTiming, kGenesis - 5) == kGenesis);
  BOOST_TEST(next_epoch_change(kTiming, kGenesis) == kGenesis + kLength);  // epoch 0: no overlap
  const int64_t s3 = kGenesis + 3 * kLength;
  BOOST_TEST(next_epoch_change(kTiming, s3) == s3 + kOverlap);
  BOOST_TEST(next_epoch_change(kTiming, s3 + kOverlap - 1) == s3 + kOverlap);
  BOOST_TEST(next_epoch_change(kTiming, s3 + kOverlap) == s3 + kLength);
}

BOOST_AUTO_TEST_CASE(a_view_holds_previous_during_the_overlap_current_and_next) {
  MemoryEpochKeys source = keys_for({2, 3, 4, 5});
  const int64_t s3 = kGenesis + 3 * kLength;
  auto in_overlap = make_epoch_view(kTiming, s3 + kOverlap - 1, nullptr, source);
  BOOST_TEST(in_overlap->current == 3u);
  BOOST_TEST((held(*in_overlap) == std::vector<uint64_t>{2, 3, 4}));
  auto after = make_epoch_view(kTiming, s3 + kOverlap, in_overlap.get(), source);
  BOOST_TEST((held(*after) == std::vector<uint64_t>{3, 4}));
  // Keys carried over are the same objects (work in flight keeps using them).
  BOOST_TEST(after->keys.at(3).get() == in_overlap->keys.at(3).get());
  // Epochs the source has no key for are left out.
  auto late = make_epoch_view(kTiming, kGenesis + 5 * kLength + kOverlap, after.get(), source);
  BOOST_TEST((held(*late) == std::vector<uint64_t>{5}));
}

BOOST_AUTO_TEST_CASE(parity_names_current_then_previous_or_next_by_half) {
  MemoryEpochKeys source = keys_for({2, 3, 4});
  const int64_t s3 = kGenesis + 3 * kLength;
  auto v = make_epoch_view(kTiming, s3, nullptr, source);
  BOOST_TEST(*v->epoch_of_parity(1, s3) == 3u);
  BOOST_TEST(*v->epoch_of_parity(0, s3) == 2u);
  BOOST_TEST(*v->epoch_of_parity(0, s3 + kLength / 2 - 1) == 2u);
  BOOST_TEST(*v->epoch_of_parity(0, s3 + kLength / 2) == 4u);
  BOOST_TEST(*v->epoch_of_parity(1, s3 + kLength - 1) == 3u);
  auto first = make_epoch_view(kTiming, kGenesis, nullptr, source);
  BOOST_TEST(!first->epoch_of_parity(1, kGenesis).has_value());  // no epoch -1
  auto fixed = make_epoch_view(EpochTiming{0, 0, 0, 3}, s3, nullptr, source);
  BOOST_TEST(*fixed->epoch_of_parity(1, s3) == 3u);
  BOOST_TEST(!fixed->epoch_of_parity(0, s3).has_value());
  BOOST_TEST((held(*fixed) == std::vector<uint64_t>{3}));
}

BOOST_AUTO_TEST_CASE(memory_keys_wipe_what_is_over) {
  MemoryEpochKeys source = keys_for({1, 2, 3});
  source.wipe_before(3);
  BOOST_TEST(source.size() == 1u);
  BOOST_TEST(!source.key(2).has_value());
  BOOST_TEST(source.key(3).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// The epoch schedule: validation bounds, exact epoch boundaries, before genesis and overflow guards.
#include <boost/test/unit_test.hpp>

#include <limits>

#include "proxy/relay/core/epoch_schedule.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;

namespace {
constexpr int64_t kG = 1'700'000'000;
constexpr EpochSchedule kHour{kG, 3600};
constexpr int64_t kUs = 1'000'000;
}  // namespace

BOOST_AUTO_TEST_SUITE(epoch_schedule)

BOOST_AUTO_TEST_CASE(validation_bounds) {
  BOOST_TEST(validate(kHour) == Error::ok);
  BOOST_TEST(validate({kG, 60}) == Error::ok);
  BOOST_TEST(validate({kG, 7 * 86'400}) == Error::ok);
  BOOST_TEST(validate({kG, 59}) == Error::invalid_argument);
  BOOST_TEST(validate({kG, 7 * 86'400 + 1}) == Error::invalid_argument);
  BOOST_TEST(validate({kG, 0}) == Error::invalid_argument);
  BOOST_TEST(validate({kG, -3600}) == Error::invalid_argument);
  BOOST_TEST(validate({0, 3600}) == Error::ok);
  BOOST_TEST(validate({-1, 3600}) == Error::invalid_argument);
  BOOST_TEST(validate({kMaxGenesisUnixS, 3600}) == Error::ok);
  BOOST_TEST(validate({kMaxGenesisUnixS + 1, 3600}) == Error::invalid_argument);
  // An invalid schedule has no epochs and no times.
  BOOST_TEST(!epoch_at({kG, 0}, kG * kUs).has_value());
  BOOST_TEST(!start_us({kG, 0}, 1).ok());
}

BOOST_AUTO_TEST_CASE(exact_boundaries) {
  BOOST_TEST(*epoch_at(kHour, kG * kUs) == 0u);
  BOOST_TEST(*epoch_at(kHour, (kG + 3600) * kUs - 1) == 0u);
  BOOST_TEST(*epoch_at(kHour, (kG + 3600) * kUs) == 1u);
  BOOST_TEST(*epoch_at(kHour, (kG + 7200) * kUs) == 2u);
  BOOST_TEST(*epoch_at_s(kHour, kG + 3599) == 0u);
  BOOST_TEST(*epoch_at_s(kHour, kG + 3600) == 1u);
  BOOST_TEST(*start_us(kHour, 0) == kG * kUs);
  BOOST_TEST(*end_us(kHour, 0) == (kG + 3600) * kUs);
  BOOST_TEST(*start_s(kHour, 5) == kG + 5 * 3600);
  BOOST_TEST(*end_s(kHour, 5) == kG + 6 * 3600);
  for (uint64_t n : {0ull, 1ull, 17ull, 100'000ull}) {
    BOOST_TEST(*epoch_at(kHour, *start_us(kHour, n)) == n);
    BOOST_TEST(*epoch_at(kHour, *end_us(kHour, n) - 1) == n);
    BOOST_TEST(*end_us(kHour, n) == *start_us(kHour, n + 1));
  }
}

BOOST_AUTO_TEST_CASE(before_genesis_has_no_epoch) {
  BOOST_TEST(!epoch_at(kHour, kG * kUs - 1).has_value());
  BOOST_TEST(!epoch_at(kHour, 0).has_value());
  BOOST_TEST(!epoch_at(kHour, std::numeric_limits<int64_t>::min()).has_value());
  BOOST_TEST(!epoch_at_s(kHour, kG - 1).has_value());
  BOOST_TEST(*epoch_at({0, 60}, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(far_future_and_overflow_guards) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  // The last representable µs still has an epoch, and its start fits.
  const auto last = epoch_at(kHour, max);
  BOOST_REQUIRE(last.has_value());
  BOOST_TEST(*start_us(kHour, *last) <= max);
  BOOST_TEST(!end_us(kHour, *last).ok());  // its end does not fit in µs
  BOOST_TEST(!start_us(kHour, *last + 1).ok());
  BOOST_TEST(!start_us(kHour, std::numeric_limits<uint64_t>::max()).ok());
  BOOST_TEST(!end_us(kHour, std::numeric_limits<uint64_t>::max()).ok());
  BOOST_TEST(!end_s(kHour, std::numeric_limits<uint64_t>::max()).ok());
  BOOST_TEST(!start_s({kMaxGenesisUnixS, kMaxEpochLengthS}, uint64_t{1} << 62).ok());
  // Epoch numbers above INT64_MAX are refused, not wrapped.
  BOOST_TEST(!start_s(kHour, uint64_t{1} << 63).ok());
  BOOST_TEST(*epoch_at_s(kHour, max) == static_cast<uint64_t>((max - kG) / 3600));
}

BOOST_AUTO_TEST_SUITE_END()

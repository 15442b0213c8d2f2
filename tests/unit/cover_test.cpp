// Cover traffic: Poisson schedule statistics and the loop tracker's loss, latency, window and alarm.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "base/rng.h"
#include "base/clock.h"
#include "proxy/relay/core/cover.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;

BOOST_AUTO_TEST_SUITE(cover)

BOOST_AUTO_TEST_CASE(manual_clock_moves_only_forward) {
  ManualClock clock(100);
  const Clock& c = clock;
  BOOST_TEST(c.now() == 100);
  clock.advance(50);
  BOOST_TEST(c.now() == 150);
  clock.set(1000);
  BOOST_TEST(c.now() == 1000);
  clock.set(10);
  clock.advance(-5);
  BOOST_TEST(c.now() == 1000);
}

BOOST_AUTO_TEST_CASE(rate_zero_never_fires_and_bad_rates_are_rejected) {
  SeededRng rng(1);
  PoissonSchedule never(0, rng, 1000);
  BOOST_TEST(never.next() == kNever);
  never.advance();
  BOOST_TEST(never.next() == kNever);

  BOOST_TEST(PoissonSchedule::make(0, rng, 0).ok());
  BOOST_TEST(PoissonSchedule::make(2.5, rng, 0).ok());
  for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(PoissonSchedule::make(bad, rng, 0).error() == Error::invalid_argument);
    }
  }
}

BOOST_AUTO_TEST_CASE(poisson_schedule_has_exponential_gaps_of_mean_one_over_rate) {
  // 50 events/s: mean gap 20 ms. Over 20000 gaps the mean has sd 0.7% (tolerance 3% ≈ 4.2 sd);
  // the variance of exponential gaps is mean² with sd ≈ sqrt(8/N) = 2% (tolerance 10% = 5 sd).
  SeededRng rng(2);
  const Micros start = 5'000'000;
  PoissonSchedule s(50, rng, start);
  const int n = 20'000;
  std::vector<double> gaps;
  Micros prev = start;
  for (int i = 0; i < n; ++i) {
    const Micros t = s.next();
    BOOST_REQUIRE_GE(t, prev);
    gaps.push_back(static_cast<double>(t - prev));
    prev = t;
    s.advance();
  }
  double sum = 0;
  for (double g : gaps) sum += g;
  const double mean = sum / n;
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= n - 1;
  BOOST_TEST(std::abs(mean - 20'000) < 0.03 * 20'000);
  BOOST_TEST(std::abs(var / (20'000.0 * 20'000.0) - 1.0) < 0.10);
}

BOOST_AUTO_TEST_CASE(poisson_schedule_is_reproducible_from_the_seed) {
  SeededRng a(3), b(3), c(4);
  PoissonSchedule sa(10, a, 0), sb(10, b, 0), sc(10, c, 0);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    BOOST_REQUIRE_EQUAL(sa.next(), sb.next());
    differs |= sa.next() != sc.next();
    sa.advance();
    sb.advance();
    sc.advance();
  }
  BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(loop_tracker_matches_returns_and_counts_losses) {
  LoopTracker loops(/*timeout=*/1000, /*window=*/1'000'000);
  for (uint64_t id = 1; id <= 10; ++id) BOOST_TEST(loops.sent(id, static_cast<Micros>(id)));
  BOOST_TEST(!loops.sent(3, 11));  // still outstanding
  for (uint64_t id = 1; id <= 8; ++id) {
    const auto latency = loops.returned(id, static_cast<Micros>(id) + static_cast<Micros>(id) * 100);
    BOOST_REQUIRE(latency.has_value());
    BOOST_TEST(*latency == static_cast<Micros>(id) * 100);
  }
  BOOST_TEST(!loops.returned(4, 900).has_value());   // duplicate
  BOOST_TEST(!loops.returned(77, 900).has_value());  // unknown

  LoopStats s = loops.stats();
  BOOST_TEST(s.sent == 10u);
  BOOST_TEST(s.returned == 8u);
  BOOST_TEST(s.lost == 0u);
  BOOST_TEST(s.outstanding == 2u);
  BOOST_TEST(s.unmatched == 2u);
  BOOST_TEST(s.loss_ratio == 0.0);

  loops.expire(1009);  // id 9 sent at 9: lost at 1009; id 10 not yet
  BOOST_TEST(loops.stats().lost == 1u);
  loops.expire(1010);
  s = loops.stats();
  BOOST_TEST(s.lost == 2u);
  BOOST_TEST(s.outstanding == 0u);
  BOOST_TEST(s.loss_ratio == 0.2);
  BOOST_TEST(s.latency_p50 == 400);  // nearest rank: 4th of 100..800
  BOOST_TEST(s.latency_p99 == 800);
  BOOST_TEST(!loops.returned(10, 1100).has_value());  // too late: already lost
  BOOST_TEST(loops.stats().unmatched == 3u);
  BOOST_TEST(loops.stats().lost == 2u);

  // An id can be reused once it is resolved.
  BOOST_TEST(loops.sent(3, 2000));
  BOOST_TEST(loops.returned(3, 2050).value() == 50);
}

BOOST_AUTO_TEST_CASE(loop_tracker_quantiles_are_nearest_rank) {
  LoopTracker loops(1'000'000, 10'000'000);
  // Latencies 1..100 in scrambled order.
  for (uint64_t i = 0; i < 100; ++i) loops.sent(i, 0);
  for (uint64_t i = 0; i < 100; ++i) {
    const uint64_t id = (i * 37) % 100;
    BOOST_REQUIRE(loops.returned(id, static_cast<Micros>(id) + 1).has_value());
  }
  const LoopStats s = loops.stats();
  BOOST_TEST(s.latency_p50 == 50);
  BOOST_TEST(s.latency_p99 == 99);
  BOOST_TEST(s.returned == 100u);
}

BOOST_AUTO_TEST_CASE(loop_tracker_window_slides) {
  LoopTracker loops(/*timeout=*/100, /*window=*/1000);
  loops.sent(1, 0);
  loops.sent(2, 0);
  BOOST_TEST(loops.returned(1, 50).has_value());
  loops.expire(100);  // 2 lost at 100
  LoopStats s = loops.stats();
  BOOST_TEST(s.sent == 2u);
  BOOST_TEST(s.returned == 1u);
  BOOST_TEST(s.lost == 1u);

  loops.expire(1000);  // sends at 0 leave the window (events at t ≤ now − window)
  s = loops.stats();
  BOOST_TEST(s.sent == 0u);
  BOOST_TEST(s.returned == 1u);
  BOOST_TEST(s.lost == 1u);
  loops.expire(1050);  // the return at 50
  BOOST_TEST(loops.stats().returned == 0u);
  BOOST_TEST(loops.stats().latency_p99 == 0);
  loops.expire(1100);  // the loss at 100
  s = loops.stats();
  BOOST_TEST(s.lost == 0u);
  BOOST_TEST(s.loss_ratio == 0.0);
}

BOOST_AUTO_TEST_CASE(loop_tracker_alarm_on_loss_or_latency) {
  const double max_loss = 0.2;
  const Micros max_latency = 500;

  LoopTracker quiet(1000, 1'000'000);
  BOOST_TEST(!quiet.alarm(max_loss, max_latency));  // nothing resolved yet
  for (uint64_t id = 0; id < 10; ++id) quiet.sent(id, 0);
  for (uint64_t id = 0; id < 8; ++id) quiet.returned(id, 400);
  quiet.expire(1000);
  BOOST_TEST(quiet.stats().loss_ratio == 0.2);
  BOOST_TEST(!quiet.alarm(max_loss, max_latency));  // at, not above, the threshold
  BOOST_TEST(quiet.alarm(0.19, max_latency));

  // n-1 style blocking: most loops vanish.
  LoopTracker blocked(1000, 1'000'000);
  for (uint64_t id = 0; id < 10; ++id) blocked.sent(id, 0);
  for (uint64_t id = 0; id < 5; ++id) blocked.returned(id, 100);
  blocked.expire(1000);
  BOOST_TEST(blocked.alarm(max_loss, max_latency));

  // Delay attack: loops come back, but late.
  LoopTracker delayed(10'000, 1'000'000);
  for (uint64_t id = 0; id < 10; ++id) delayed.sent(id, 0);
  for (uint64_t id = 0; id < 10; ++id) delayed.returned(id, id == 9 ? 501 : 100);
  BOOST_TEST(delayed.stats().latency_p99 == 501);
  BOOST_TEST(delayed.alarm(max_loss, max_latency));
  BOOST_TEST(!delayed.alarm(max_loss, 501));
}

BOOST_AUTO_TEST_SUITE_END()

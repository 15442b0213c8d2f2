// Each mix strategy's release rule, end to end: relay-alpha → mix-1 (the strategy) → relay-beta,
// on a manual clock. Counts are exact.
#include <boost/test/unit_test.hpp>

#include "support.h"

namespace veil::relay_test {

namespace {

using Strategy = relay::MixConfig::Strategy;
constexpr Micros kMs = 1000;

struct World {
  sim::InProcessWorld w;
  explicit World(const Tune& mix) {
    declare_world(w, true, {}, mix);
    w.start();
  }
  void submit(uint64_t from, uint64_t to) {
    for (uint64_t n = from; n <= to; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
    w.settle();
  }
  uint64_t mixed_out() { return w.counter(kMix, Counter::packets_sent); }
  std::size_t delivered() { return w.deliver(kBeta).deliveries().size(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mix_release)

BOOST_AUTO_TEST_CASE(a_none_mix_forwards_each_packet_without_waiting) {
  World t([](relay::RelayConfig& c) { c.mix.strategy = Strategy::none; });
  t.submit(1, 3);
  BOOST_TEST(t.w.submitter(kAlpha).accepted() == 3u);
  BOOST_TEST(t.mixed_out() == 3u);
  BOOST_TEST(t.delivered() == 3u);
  BOOST_TEST(t.w.relay(kMix).metrics().relay_latency_us.max() == 0.0);
}

BOOST_AUTO_TEST_CASE(a_threshold_mix_sends_nothing_until_the_threshold_then_the_whole_pool) {
  World t([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::threshold;
    c.mix.threshold = 10;
  });
  t.submit(1, 9);
  BOOST_TEST(t.w.counter(kMix, Counter::packets_received) == 9u);
  BOOST_TEST(t.mixed_out() == 0u);
  t.w.advance(3600'000 * kMs);  // time alone releases nothing
  BOOST_TEST(t.mixed_out() == 0u);
  BOOST_TEST(t.w.relay(kMix).metrics().pool_now == 9u);
  t.submit(10, 10);
  BOOST_TEST(t.mixed_out() == 10u);
  BOOST_TEST(t.delivered() == 10u);
  BOOST_TEST(t.w.relay(kMix).metrics().pool_now == 0u);
  BOOST_TEST(t.w.relay(kMix).metrics().pool_size.count() == 1u);  // one flush
}

BOOST_AUTO_TEST_CASE(a_timed_mix_flushes_on_its_fixed_schedule_from_the_first_arrival) {
  World t([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::timed;
    c.mix.interval = 100 * kMs;
  });
  t.submit(1, 3);
  t.w.advance(100 * kMs - 1);
  BOOST_TEST(t.mixed_out() == 0u);
  t.w.advance(1);
  BOOST_TEST(t.mixed_out() == 3u);
  t.w.advance(50 * kMs);
  t.submit(4, 5);  // mid-period: they wait for the next tick, 200 ms after the first arrival
  t.w.advance(50 * kMs - 1);
  BOOST_TEST(t.mixed_out() == 3u);
  t.w.advance(1);
  BOOST_TEST(t.mixed_out() == 5u);
  BOOST_TEST(t.delivered() == 5u);
}

BOOST_AUTO_TEST_CASE(a_threshold_or_timed_mix_flushes_at_whichever_comes_first) {
  World t([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::threshold_or_timed;
    c.mix.threshold = 4;
    c.mix.interval = 100 * kMs;
  });
  t.submit(1, 2);
  t.w.advance(100 * kMs - 1);
  BOOST_TEST(t.mixed_out() == 0u);
  t.w.advance(1);
  BOOST_TEST(t.mixed_out() == 2u);  // the timer
  t.submit(3, 6);
  BOOST_TEST(t.mixed_out() == 6u);  // the threshold, with no time passing
  BOOST_TEST(t.delivered() == 6u);
}

BOOST_AUTO_TEST_CASE(a_binomial_mix_keeps_min_pool_packets_back_at_each_tick) {
  World t([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::binomial;
    c.mix.interval = 100 * kMs;
    c.mix.probability = 1.0;
    c.mix.min_pool = 2;
  });
  t.submit(1, 5);
  t.w.advance(100 * kMs);
  BOOST_TEST(t.mixed_out() == 3u);
  t.w.advance(100 * kMs);
  BOOST_TEST(t.mixed_out() == 3u);  // the last two stay as long as nothing new comes
  t.submit(6, 6);
  t.w.advance(100 * kMs);
  BOOST_TEST(t.mixed_out() == 4u);
  BOOST_TEST(t.w.relay(kMix).metrics().pool_now == 2u);
}

BOOST_AUTO_TEST_CASE(a_poisson_mix_releases_each_packet_at_its_own_time) {
  World t([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::poisson;
    c.mix.mean_delay = 100 * kMs;
  });
  t.submit(1, 20);
  const uint64_t at_once = t.mixed_out();
  std::size_t instants = 0;
  uint64_t last = at_once;
  for (int step = 0; step < 5000; ++step) {  // 5 s in 1 ms steps
    t.w.advance(kMs);
    if (t.mixed_out() != last) ++instants;
    last = t.mixed_out();
  }
  BOOST_TEST(at_once <= 1u);
  BOOST_TEST(last == 20u);
  BOOST_TEST(instants >= 15u);  // individual delays, not one flush
  const double mean = t.w.relay(kMix).metrics().relay_latency_us.mean();
  BOOST_TEST(mean > 30'000.0);
  BOOST_TEST(mean < 300'000.0);
  BOOST_TEST(t.delivered() == 20u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

// Cover traffic in process: drop covers reach a provider and are dropped there, loop covers come
// back, and loops that stop coming back raise the n-1 alarm.
#include <boost/test/unit_test.hpp>

#include "support.h"

namespace veil::relay_test {

BOOST_AUTO_TEST_SUITE(cover)

BOOST_AUTO_TEST_CASE(drop_covers_are_dropped_by_their_provider_and_every_loop_returns) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) {
    c.cover.drop_rate = 5;
    c.cover.loop_rate = 5;
  });
  w.start();
  BOOST_TEST(w.counter(kAlpha, Counter::cover_drop_sent) == 0u);  // nothing before the schedule
  w.advance(10'000'000);
  const uint64_t drops = w.counter(kAlpha, Counter::cover_drop_sent);
  const uint64_t loops = w.counter(kAlpha, Counter::cover_loop_sent);
  BOOST_TEST(drops >= 20u);  // Poisson, 5/s over 10 s
  BOOST_TEST(drops <= 90u);
  BOOST_TEST(loops >= 20u);
  BOOST_TEST(loops <= 90u);
  BOOST_TEST(w.counter(kBeta, Counter::cover_drop_received) == drops);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_loop_returned) == loops);
  BOOST_TEST(w.counter(kMix, Counter::packets_forwarded) == drops + loops);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_loop_lost) == 0u);
  BOOST_TEST(!w.relay(kAlpha).metrics().loop_alarm);
  BOOST_TEST(w.relay(kAlpha).metrics().loop_latency_us.max() == 0.0);  // no delay anywhere
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
}

BOOST_AUTO_TEST_CASE(loops_that_stop_returning_raise_the_alarm_after_the_loop_timeout) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) {
    c.cover.loop_rate = 5;
    c.cover.loop_timeout = 2'000'000;
  });
  w.start();
  w.advance(5'000'000);
  BOOST_TEST(!w.relay(kAlpha).metrics().loop_alarm);
  w.stop_relay(kMix);  // an n-1 attacker blocking the mix
  w.advance(1'999'000);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_loop_lost) == 0u);  // not yet timed out
  w.advance(2'000'000);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_loop_lost) > 0u);
  BOOST_TEST(w.relay(kAlpha).metrics().loop_alarm);
  BOOST_TEST(w.relay(kAlpha).metrics().loop_loss_ratio >= 0.2);  // alarm_loss, the default
  // A counter (veil_cover_loops_lost_total) never goes down, also once the mix is back, no loop
  // is lost any more and the losses leave the alarm's sliding window (30 s here).
  w.restart_relay(kMix);
  w.advance(3'000'000);
  const uint64_t lost = w.counter(kAlpha, Counter::cover_loop_lost);
  BOOST_TEST(lost > 0u);
  for (int i = 0; i < 12; ++i) {
    w.advance(5'000'000);
    BOOST_TEST(w.counter(kAlpha, Counter::cover_loop_lost) >= lost);
  }
  BOOST_TEST(w.relay(kAlpha).metrics().loop_loss_ratio < 0.2);  // the window forgot them
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

// Outages in process: the messenger server or the next hop goes away for a while and comes back.
// The queues along the path fill up to their bounds, then the submitter is answered busy; nothing
// accepted is lost, and delivery resumes by itself once the party is back.
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "support.h"

namespace veil::relay_test {
namespace {

constexpr Micros kSecond = 1'000'000;
constexpr std::size_t kBound = 5;

std::set<std::string> distinct_envelopes(const std::vector<relay::Delivery>& ds) {
  std::set<std::string> out;
  for (const auto& d : ds) out.insert(d.envelope());
  return out;
}

std::size_t busy_answers(const sim::MemorySubmitter& sub) {
  std::size_t n = 0;
  for (const auto& a : sub.answers()) n += a.reason() == "busy" ? 1 : 0;
  return n;
}

// Offers `rounds` reads of 5 submissions each, a second apart; returns how many were offered.
uint64_t offer(sim::InProcessWorld& w, uint64_t& n, int rounds) {
  uint64_t offered = 0;
  for (int r = 0; r < rounds; ++r) {
    std::vector<relay::Submission> batch;
    for (int i = 0; i < 5; ++i) {
      ++n;
      batch.push_back(message_to_beta(w, n, n % 4));
    }
    offered += batch.size();
    w.submitter(kAlpha).send_all(batch);
    w.advance(kSecond);
  }
  return offered;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outage)

BOOST_AUTO_TEST_CASE(a_messenger_outage_fills_every_queue_to_its_bound_then_busy_then_resumes) {
  sim::InProcessWorld w;
  const auto small = [](relay::RelayConfig& c) { c.per_peer_queue = kBound; };
  declare_world(w, true, small, small, small);
  w.start();
  w.deliver(kBeta).go_down();
  w.settle();
  uint64_t n = 0;
  const uint64_t offered = offer(w, n, 12);
  auto& sub = w.submitter(kAlpha);
  BOOST_REQUIRE(sub.answers().size() == offered);
  const std::size_t accepted = sub.accepted();
  // relay-beta holds kBound deliveries, then stops reading its link; mix-1 queues kBound for it,
  // then stops reading; relay-alpha queues kBound and answers busy. (A read in flight when a
  // queue fills is taken whole, so a stage may hold one read more than its bound.)
  BOOST_TEST(accepted >= 3 * kBound);
  BOOST_TEST(accepted <= 3 * (kBound + 5));
  BOOST_TEST(busy_answers(sub) == offered - accepted);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now >= kBound);
  BOOST_TEST(w.relay(kMix).metrics().queue_now >= kBound);
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
  // Nothing was dropped anywhere.
  for (const std::string r : {kAlpha, kMix, kBeta}) {
    BOOST_TEST_CONTEXT(r) {
      BOOST_TEST(w.counter(r, Counter::packets_dropped_auth) == 0u);
      BOOST_TEST(w.counter(r, Counter::packets_dropped_replay) == 0u);
    }
  }
  // The messenger server comes back: every accepted message arrives, once each, by itself.
  w.deliver(kBeta).come_back();
  w.advance(20 * kSecond);
  BOOST_TEST(distinct_envelopes(w.deliver(kBeta).deliveries()).size() == accepted);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);
  BOOST_TEST(w.relay(kMix).metrics().queue_now == 0u);
  // And submissions are taken again.
  const std::size_t busy_before = busy_answers(sub);
  offer(w, n, 2);
  BOOST_TEST(busy_answers(sub) == busy_before);
  w.advance(5 * kSecond);
  BOOST_TEST(distinct_envelopes(w.deliver(kBeta).deliveries()).size() == accepted + 10);
}

BOOST_AUTO_TEST_CASE(a_next_hop_outage_mid_stream_fills_the_queue_then_busy_then_resumes) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) { c.per_peer_queue = kBound; });
  w.start();
  uint64_t n = 0;
  offer(w, n, 2);  // flowing
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 10u);
  w.stop_relay(kMix);
  const uint64_t offered = offer(w, n, 4);
  auto& sub = w.submitter(kAlpha);
  const std::size_t accepted_down = sub.accepted() - 10;
  BOOST_TEST(accepted_down >= kBound);
  BOOST_TEST(accepted_down <= kBound + 5);
  BOOST_TEST(busy_answers(sub) == offered - accepted_down);
  w.restart_relay(kMix);
  w.advance(10 * kSecond);  // the dialer's backoff, then the queue goes
  BOOST_TEST(distinct_envelopes(w.deliver(kBeta).deliveries()).size() == 10 + accepted_down);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

// Covers: with drop and loop covers at a high rate on every relay, the messenger servers receive
// only the real deliveries; loops come back to their senders and drop covers end at a provider
// relay, all counted; on the wire covers have the same size as real packets.
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace veil::it {

BOOST_AUTO_TEST_SUITE(cover)

BOOST_AUTO_TEST_CASE(covers_never_reach_the_messenger_and_loops_return) {
  constexpr std::size_t kPacket = 2048;
  Deployment net("cover", {{"packet_size", kPacket},
                           {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2}}},
                           {"cover", {{"drop_rate", 100}, {"loop_rate", 100}}}});
  const auto taps = net.tap_all(false);
  net.start();
  const std::vector<std::string> names = {kAlpha, kMix, kBeta};

  // Real traffic, paced, interleaved with the covers.
  constexpr std::size_t kMessages = 60;
  std::size_t expected = 0;
  Submitter submitter(net.submit_port());
  for (std::size_t n = 0; n < kMessages; ++n) {
    const sim::Account& from = net.alpha.accounts[n % net.alpha.accounts.size()];
    if (n % 4 == 3) {
      std::vector<const sim::Account*> to = {&net.beta.accounts[0], &net.beta.accounts[1 + n % 5]};
      expected += to.size();
      BOOST_REQUIRE(submitter.send(v2_submission(from, to, n, net.rng)));
    } else {
      ++expected;
      BOOST_REQUIRE(submitter.send(v1_submission(from, net.beta.accounts[n % 6], n, net.rng)));
    }
    std::this_thread::sleep_for(12ms);
  }
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), kMessages);
  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE_MESSAGE(wait_until(10s, [&] { return inbox.distinct() >= expected; }),
                        "delivered " << inbox.distinct() << " of " << expected);

  // Accounting: every cover sent up to t1 arrives (loops back at their sender, drops at a
  // provider relay) by t2; nothing arrives that was not sent by t3. Snapshots are per relay
  // file, so each bound compares against a read taken later: t1 < t2 < t3.
  std::map<std::string, nlohmann::json> t1, t2, t3;
  auto snapshot = [&](std::map<std::string, nlohmann::json>& m) {
    for (const auto& n : names) m[n] = net.relay(n).metrics()["counters"];
  };
  auto at = [](std::map<std::string, nlohmann::json>& m, const std::string& relay, const char* c) {
    return m[relay].value(c, uint64_t{0});
  };
  auto sum = [&](std::map<std::string, nlohmann::json>& m, const char* c) {
    uint64_t total = 0;
    for (const auto& n : names) total += at(m, n, c);
    return total;
  };
  snapshot(t1);
  const bool caught_up = wait_until(10s, [&] {
    snapshot(t2);
    for (const auto& n : names) {
      if (at(t2, n, "cover_loop_returned") < at(t1, n, "cover_loop_sent")) return false;
    }
    return sum(t2, "cover_drop_received") >= sum(t1, "cover_drop_sent");
  });
  std::this_thread::sleep_for(120ms);
  snapshot(t3);
  BOOST_TEST(caught_up, "covers sent by t1 had not all arrived 10 s later");
  for (const auto& n : names) {
    BOOST_TEST_CONTEXT("relay " << n) {
      BOOST_TEST(at(t2, n, "cover_drop_sent") > 0u);
      BOOST_TEST(at(t2, n, "cover_loop_sent") > 0u);
      BOOST_TEST(at(t2, n, "cover_loop_returned") > 0u);
      BOOST_TEST(at(t2, n, "cover_loop_returned") >= at(t1, n, "cover_loop_sent"));
      BOOST_TEST(at(t2, n, "cover_loop_returned") <= at(t3, n, "cover_loop_sent"));
      BOOST_TEST(at(t2, n, "cover_loop_unknown") == 0u);
      BOOST_TEST(at(t2, n, "cover_loop_lost") == 0u);
      BOOST_TEST(at(t2, n, "packets_dropped_auth") == 0u);
      BOOST_TEST(at(t2, n, "packets_dropped_replay") == 0u);
      BOOST_TEST(at(t2, n, "packets_dropped_malformed") == 0u);
      BOOST_TEST(at(t2, n, "deliveries_dropped_malformed") == 0u);
      BOOST_TEST(net.relay(n).metrics()["gauges"]["loop_alarm"].get<bool>() == false);
    }
  }
  // Drop covers end at a provider relay (never at the mix) and none goes missing.
  BOOST_TEST(at(t2, kMix, "cover_drop_received") == 0u);
  BOOST_TEST(at(t2, kAlpha, "cover_drop_received") > 0u);
  BOOST_TEST(at(t2, kBeta, "cover_drop_received") > 0u);
  const uint64_t drop_received = sum(t2, "cover_drop_received"), drop_sent = sum(t3, "cover_drop_sent");
  BOOST_TEST(drop_received >= sum(t1, "cover_drop_sent"));
  BOOST_TEST(drop_received <= drop_sent);

  // The messenger servers saw exactly the real deliveries.
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(inbox.frames() == expected);
  BOOST_TEST(inbox.distinct() == expected);
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  BOOST_TEST(net.alpha_inbox().frames() == 0u);
  BOOST_TEST(counter(net.relay(kBeta), "deliveries_unwrapped") == kMessages);
  BOOST_TEST(counter(net.relay(kAlpha), "deliveries_unwrapped") == 0u);

  // On the wire, covers are indistinguishable by size: every frame on every link is P + 9.
  std::size_t frames = 0;
  for (const auto& [link, t] : taps) {
    for (const auto& p : t->packets()) {
      ++frames;
      BOOST_TEST_REQUIRE(p.frame_size == kPacket + 9, "a " << p.frame_size << " B frame on " << link.first
                                                              << " -> " << link.second);
    }
  }
  BOOST_TEST(frames > 2 * kMessages + 100);  // the covers crossed the links too
  BOOST_TEST_MESSAGE("link frames " << frames << ", drop covers sent " << drop_sent << " received "
                                    << drop_received << ", loops back alpha/mix/beta "
                                    << at(t2, kAlpha, "cover_loop_returned") << "/"
                                    << at(t2, kMix, "cover_loop_returned") << "/"
                                    << at(t2, kBeta, "cover_loop_returned"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

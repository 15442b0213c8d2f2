// Replay: a packet captured on a link and injected again is dropped by the next hop's replay
// filter (counted), and its message is delivered exactly once; the link keeps working.
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace veil::it {

BOOST_AUTO_TEST_SUITE(replay)

BOOST_AUTO_TEST_CASE(replayed_packets_are_dropped_at_the_next_hop) {
  Deployment net("replay");
  sim::Tap& alpha_to_mix = net.tap(kAlpha, kMix);  // only relay-alpha's link to mix-1
  sim::Tap& mix_to_beta = net.tap(kMix, kBeta);    // only mix-1's link to relay-beta
  net.start();
  auto& mix = net.relay(kMix);
  auto& beta = net.relay(kBeta);
  Inbox& inbox = net.beta_inbox();
  const sim::Account& to = net.beta.accounts[0];

  auto a = submit_one(net.submit_port(), v1_submission(net.alpha.accounts[0], to, 1, net.rng));
  BOOST_REQUIRE(a && a->status() == relay::SubmitAnswer::ACCEPTED);
  BOOST_REQUIRE_MESSAGE(wait_until(5s, [&] { return inbox.has(1, to.uuid); }), "message 1 not delivered");
  BOOST_REQUIRE_EQUAL(alpha_to_mix.packet_count(), 1u);
  BOOST_REQUIRE_EQUAL(mix_to_beta.packet_count(), 1u);
  BOOST_REQUIRE_EQUAL(wait_counter(mix, "packets_received", 1, 2s), 1u);

  // Replay on alpha -> mix: the mix recognises the pairwise layer's tag.
  BOOST_REQUIRE(alpha_to_mix.inject(alpha_to_mix.packets().front().packet));
  BOOST_REQUIRE_MESSAGE(wait_counter(mix, "packets_received", 2, 3s) == 2, "mix-1 never received the replay");
  BOOST_TEST(wait_counter(mix, "packets_dropped_replay", 1, 2s) == 1u);
  BOOST_TEST(counter(mix, "packets_dropped_auth") == 0u);
  BOOST_TEST(counter(mix, "packets_forwarded") == 1u);

  // Replay on mix -> beta: beta recognises its onion layer's tag.
  BOOST_REQUIRE(mix_to_beta.inject(mix_to_beta.packets().front().packet));
  BOOST_REQUIRE_MESSAGE(wait_counter(beta, "packets_received", 2, 3s) == 2, "relay-beta never received the replay");
  BOOST_TEST(wait_counter(beta, "packets_dropped_replay", 1, 2s) == 1u);
  BOOST_TEST(counter(beta, "packets_dropped_auth") == 0u);
  BOOST_TEST(counter(beta, "deliveries_unwrapped") == 1u);

  // The links still carry fresh packets, and nothing was delivered twice.
  a = submit_one(net.submit_port(), v1_submission(net.alpha.accounts[0], to, 2, net.rng));
  BOOST_REQUIRE(a && a->status() == relay::SubmitAnswer::ACCEPTED);
  BOOST_REQUIRE_MESSAGE(wait_until(5s, [&] { return inbox.has(2, to.uuid); }), "message 2 not delivered after the replays");
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(inbox.frames() == 2u);
  BOOST_TEST(inbox.distinct() == 2u);
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  BOOST_TEST(counter(mix, "packets_dropped_replay") == 1u);
  BOOST_TEST(counter(beta, "packets_dropped_replay") == 1u);
  BOOST_TEST(counter(beta, "deliveries_unwrapped") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

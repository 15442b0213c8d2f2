// Tamper: one flipped bit anywhere in a packet (head, tag, routing, body, filler) makes the next
// hop drop it as unauthenticated; the message is not delivered and later packets still flow.
#include <atomic>
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace veil::it {

BOOST_AUTO_TEST_SUITE(tamper)

BOOST_AUTO_TEST_CASE(a_flipped_bit_is_dropped_at_the_next_hop) {
  constexpr std::size_t kPacket = 4096;
  Deployment net("tamper", {{"packet_size", kPacket}});
  sim::Tap& alpha_to_mix = net.tap(kAlpha, kMix);
  sim::Tap& mix_to_beta = net.tap(kMix, kBeta);
  // alpha -> mix: packets 0..4 get one bit flipped, each at another place of the layout.
  const std::vector<std::size_t> where = {0, 40, 60, 2000, kPacket - 1};  // head, tag, routing, body, last
  std::atomic<std::size_t> seen_a{0};
  alpha_to_mix.set_mutator([&](Bytes& p) {
    const std::size_t i = seen_a++;
    if (i < where.size()) p[where[i]] ^= static_cast<uint8_t>(1u << (i % 8));
  });
  // mix -> beta: the next packet after `tamper_next_b` is set gets one bit flipped.
  std::atomic<bool> tamper_next_b{false};
  mix_to_beta.set_mutator([&](Bytes& p) {
    if (tamper_next_b.exchange(false)) p[kPacket / 2] ^= 0x80;
  });
  net.start();
  auto& mix = net.relay(kMix);
  auto& beta = net.relay(kBeta);
  Inbox& inbox = net.beta_inbox();
  const sim::Account& from = net.alpha.accounts[0];
  const sim::Account& to = net.beta.accounts[0];

  for (std::size_t n = 0; n < where.size(); ++n) {
    const auto a = submit_one(net.submit_port(), v1_submission(from, to, n, net.rng));
    BOOST_REQUIRE(a && a->status() == relay::SubmitAnswer::ACCEPTED);
    BOOST_REQUIRE_MESSAGE(wait_counter(mix, "packets_dropped_auth", n + 1, 3s) == n + 1,
                          "mix-1 did not drop the packet tampered at byte " << where[n]);
  }
  BOOST_TEST(counter(mix, "packets_forwarded") == 0u);
  BOOST_TEST(counter(mix, "packets_dropped_malformed") == 0u);

  // One tampered packet on mix -> beta: beta drops it.
  tamper_next_b = true;
  {
    const auto a = submit_one(net.submit_port(), v1_submission(from, to, 100, net.rng));
    BOOST_REQUIRE(a && a->status() == relay::SubmitAnswer::ACCEPTED);
    BOOST_REQUIRE_MESSAGE(wait_counter(beta, "packets_dropped_auth", 1, 3s) == 1,
                          "relay-beta did not drop the packet tampered on mix-1 -> relay-beta");
  }

  // Later packets still flow on both links.
  Submitter submitter(net.submit_port());
  for (std::size_t n = 200; n < 210; ++n) BOOST_REQUIRE(submitter.send(v1_submission(from, to, n, net.rng)));
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), 10u);
  BOOST_REQUIRE_MESSAGE(wait_until(5s, [&] { return inbox.distinct() >= 10; }),
                        "only " << inbox.distinct() << " of the 10 later messages arrived");
  std::this_thread::sleep_for(200ms);
  const auto got = inbox.messages();
  BOOST_TEST(got.size() == 10u);
  BOOST_TEST(*got.begin() == 200u);  // none of the tampered messages 0..4 and 100
  BOOST_TEST(inbox.frames() == 10u);
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  BOOST_TEST(counter(mix, "packets_dropped_auth") == where.size());
  BOOST_TEST(counter(beta, "packets_dropped_auth") == 1u);
  BOOST_TEST(counter(beta, "deliveries_unwrapped") == 10u);
  BOOST_TEST(alpha_to_mix.packet_count() == where.size() + 11);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

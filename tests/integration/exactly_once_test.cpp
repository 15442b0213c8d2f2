// Exactly once: hundreds of SSv1 and SSv2 messages through alpha -> mix -> beta, each delivered once
// per recipient and opened by its recipient, even while beta's messenger withholds acknowledgements.
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace veil::it {

BOOST_AUTO_TEST_SUITE(exactly_once)

BOOST_AUTO_TEST_CASE(every_accepted_message_once_per_recipient_across_withheld_acks) {
  Deployment net("exactly-once", {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 3}}},
                                  {"deliver_retry_ms", 100}});
  // beta's messenger takes deliveries but does not acknowledge them yet: the relay must retry.
  net.beta_server().withhold_acks(true);
  net.start();

  constexpr std::size_t kMessages = 300;  // every third an SSv2 message to three recipients
  std::map<std::size_t, std::string> sender_of;
  std::set<std::pair<std::size_t, std::string>> expected;
  Submitter submitter(net.submit_port());
  for (std::size_t n = 0; n < kMessages; ++n) {
    const sim::Account& from = net.alpha.accounts[n % net.alpha.accounts.size()];
    sender_of[n] = from.uuid;
    if (n % 3 == 2) {
      std::vector<const sim::Account*> to;
      for (std::size_t k = 0; k < 3; ++k) to.push_back(&net.beta.accounts[(n + k) % net.beta.accounts.size()]);
      for (const auto* r : to) expected.insert({n, r->uuid});
      BOOST_REQUIRE(submitter.send(v2_submission(from, to, n, net.rng)));
    } else {
      const sim::Account& to = net.beta.accounts[n % net.beta.accounts.size()];
      expected.insert({n, to.uuid});
      BOOST_REQUIRE(submitter.send(v1_submission(from, to, n, net.rng)));
    }
  }
  BOOST_REQUIRE_MESSAGE(submitter.wait_answers(10s), "relay-alpha did not answer every submission in 10 s");
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), kMessages);

  Inbox& inbox = net.beta_inbox();
  auto& beta = net.relay(kBeta);
  // While acks are withheld: every delivery arrives at least once and the relay retries.
  BOOST_REQUIRE_MESSAGE(wait_until(15s, [&] { return inbox.distinct() >= expected.size(); }),
                        "only " << inbox.distinct() << " of " << expected.size()
                                << " deliveries arrived while acks were withheld");
  BOOST_REQUIRE_MESSAGE(wait_counter(beta, "deliveries_retried", 1, 5s) > 0,
                        "relay-beta never retried an unacknowledged delivery");
  BOOST_REQUIRE_MESSAGE(wait_until(5s, [&] { return inbox.duplicate_frames() > 0; }),
                        "no delivery was repeated while acks were withheld (retries not exercised)");
  BOOST_TEST(counter(beta, "deliveries_acked") == 0u);

  // Acks resume: the relay must settle with every delivery acknowledged exactly once.
  net.beta_server().withhold_acks(false);
  const uint64_t acked = wait_counter(beta, "deliveries_acked", expected.size(), 15s);
  BOOST_REQUIRE_MESSAGE(acked >= expected.size(), "relay-beta has " << acked << " of " << expected.size()
                                                                   << " deliveries acknowledged after acks resumed");
  std::this_thread::sleep_for(400ms);  // late re-deliveries would show up here
  BOOST_TEST(counter(beta, "deliveries_acked") == expected.size());
  BOOST_TEST(counter(beta, "deliveries_unwrapped") == kMessages);
  BOOST_TEST(counter(beta, "deliveries_dropped_access") == 0u);
  BOOST_TEST(counter(beta, "deliveries_dropped_unknown") == 0u);
  BOOST_TEST(counter(beta, "deliveries_dropped_malformed") == 0u);
  BOOST_TEST(counter(net.relay(kMix), "packets_forwarded") == kMessages);

  // The messenger's view: exactly the expected (message, recipient) pairs, each opened by its
  // recipient and naming its real sender; every repeated frame repeated its delivery id.
  const auto problems = inbox.problems();
  BOOST_TEST(problems.empty(), describe(problems));
  BOOST_TEST(inbox.distinct() == expected.size());
  std::set<std::pair<std::size_t, std::string>> got;
  std::set<uint64_t> ids;
  std::size_t v2 = 0;
  for (const auto& e : inbox.entries()) {
    got.insert({e.message, e.delivery.recipient().service_id()});
    ids.insert(e.delivery.delivery_id());
    BOOST_TEST(e.sender_uuid == sender_of.at(e.message));
    if (e.version == 2) ++v2;
  }
  BOOST_TEST((got == expected), "delivered pairs differ from the accepted ones");
  BOOST_TEST(ids.size() == expected.size());  // one delivery id per (message, recipient)
  BOOST_TEST(v2 == 3 * (kMessages / 3));
  BOOST_TEST(net.alpha_inbox().frames() == 0u);
  BOOST_TEST_MESSAGE("deliveries " << expected.size() << ", frames at the messenger " << inbox.frames()
                                   << " (repeats " << inbox.duplicate_frames() << "), relay retries "
                                   << counter(beta, "deliveries_retried"));
}

// The direct path: two providers' relays without a mix (one hop, a pairwise layer) also deliver
// every message exactly once.
BOOST_AUTO_TEST_CASE(direct_provider_to_provider_path) {
  Deployment net("exactly-once-direct", {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2}}}},
                 /*with_mix=*/false);
  const auto taps = net.tap_all(false);
  net.start();
  std::set<std::pair<std::size_t, std::string>> expected;
  Submitter submitter(net.submit_port());
  for (std::size_t n = 0; n < 60; ++n) {
    const sim::Account& from = net.alpha.accounts[n % net.alpha.accounts.size()];
    if (n % 3 == 2) {
      std::vector<const sim::Account*> to = {&net.beta.accounts[n % 6], &net.beta.accounts[(n + 1) % 6]};
      for (const auto* r : to) expected.insert({n, r->uuid});
      BOOST_REQUIRE(submitter.send(v2_submission(from, to, n, net.rng)));
    } else {
      expected.insert({n, net.beta.accounts[n % 6].uuid});
      BOOST_REQUIRE(submitter.send(v1_submission(from, net.beta.accounts[n % 6], n, net.rng)));
    }
  }
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), 60u);
  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE_MESSAGE(wait_until(10s, [&] { return inbox.distinct() >= expected.size(); }),
                        "delivered " << inbox.distinct() << " of " << expected.size());
  std::this_thread::sleep_for(200ms);
  std::set<std::pair<std::size_t, std::string>> got;
  for (const auto& e : inbox.entries()) got.insert({e.message, e.delivery.recipient().service_id()});
  BOOST_TEST((got == expected), "delivered pairs differ from the accepted ones");
  BOOST_TEST(inbox.frames() == expected.size());
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  // One link carried everything, one packet per message.
  BOOST_TEST(taps.at({kAlpha, kBeta})->packet_count() == 60u);
  BOOST_TEST(taps.at({kBeta, kAlpha})->packet_count() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

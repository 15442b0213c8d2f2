// Half-close: a messenger that sends its submissions and then closes its sending side still
// hears an answer for every one of them, and exactly the answered-ACCEPTED ones are delivered.
#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "proxy/sim/socket.h"

namespace veil::it {

BOOST_AUTO_TEST_SUITE(half_close)

// An accepted submission without an answer would be retried by the messenger and delivered twice.
BOOST_AUTO_TEST_CASE(a_half_closed_connection_gets_every_answer) {
  Deployment net("submit-halfclose");
  net.start();
  constexpr std::size_t kCount = 200;
  sim::Socket s = raw_connection(net.submit_port());
  Bytes all;
  for (std::size_t n = 0; n < kCount; ++n) {
    const std::string body =
        v1_submission(net.alpha.accounts[0], net.beta.accounts[n % 6], n, net.rng).SerializeAsString();
    append(all, header(static_cast<uint32_t>(body.size())));
    append(all, as_bytes(body));
  }
  BOOST_REQUIRE(s.send_all(all));
  s.shutdown_write();
  std::set<uint64_t> answered, accepted;
  while (auto a = read_answer(s)) {
    answered.insert(a->request_id());
    if (a->status() == relay::SubmitAnswer::ACCEPTED) accepted.insert(a->request_id());
  }
  Inbox& inbox = net.beta_inbox();
  const uint64_t relay_accepted = wait_counter(net.relay(kAlpha), "submissions_accepted", kCount, 3s);
  wait_until(5s, [&] { return inbox.distinct() >= relay_accepted; });
  std::this_thread::sleep_for(150ms);
  BOOST_TEST(answered.size() == kCount, "answers for " << answered.size() << " of " << kCount
                                                       << " submissions before the relay closed");
  BOOST_TEST(accepted.size() == relay_accepted,
             "relay-alpha accepted " << relay_accepted << " but answered ACCEPTED to " << accepted.size());
  BOOST_TEST(inbox.messages().size() == accepted.size(),
             inbox.messages().size() << " delivered, " << accepted.size() << " answered ACCEPTED");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

// Submit input: malformed frames get an explicit REJECTED answer with a reason code while other
// connections are served concurrently; invalid submissions are rejected by reason; the access
// proof is checked at the destination's deliver stage (wrong key dropped and counted, right key
// delivered).
#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "proxy/relay/core/framing.h"
#include "proxy/sim/socket.h"

namespace veil::it {

namespace {

// The relay's submit frame limit (kMaxSubmitFrame in proxy/relay/core/relay_state.h).
constexpr uint32_t kMaxSubmitFrame = 1u << 20;

// True once the relay closed the connection (EOF), false if it stays open for `timeout`.
bool closed_by_relay(sim::Socket& s) {
  uint8_t b;
  return s.recv_some(&b, 1) == 0;
}

struct ParallelResult {
  std::size_t accepted = 0;
  std::size_t sent = 0;
  bool answered = false;
  std::string error;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(submit_input)

BOOST_AUTO_TEST_CASE(malformed_frames_are_rejected_while_other_connections_are_served) {
  Deployment net("submit-frames");
  net.start();
  const uint16_t port = net.submit_port();
  auto& alpha = net.relay(kAlpha);

  // A well-behaved messenger connection submits throughout.
  std::vector<relay::Submission> good;
  for (std::size_t n = 1000; n < 1100; ++n) {
    good.push_back(v1_submission(net.alpha.accounts[n % 4], net.beta.accounts[n % 6], n, net.rng));
  }
  ParallelResult parallel;
  std::thread worker([&] {
    try {
      Submitter s(port);
      for (const auto& sub : good) {
        if (!s.send(sub)) throw std::runtime_error("send failed");
        std::this_thread::sleep_for(2ms);
      }
      parallel.answered = s.wait_answers(5s);
      parallel.sent = s.sent();
      parallel.accepted = s.accepted().size();
    } catch (const std::exception& e) {
      parallel.error = e.what();
    }
  });

  // Slow and broken connections that must not stall anyone: half a header, then silence; a
  // frame cut short by a close.
  sim::Socket idle = raw_connection(port);
  BOOST_REQUIRE(idle.send_all(Bytes{0x00, 0x00}));
  {
    sim::Socket cut = raw_connection(port);
    Bytes b = header(100);
    b.resize(b.size() + 10, 0x0A);
    BOOST_REQUIRE(cut.send_all(b));
  }

  // Frames that are not protobuf Submissions: REJECTED "malformed", the connection stays usable.
  sim::Socket g1 = raw_connection(port);
  const std::vector<Bytes> garbage = {
      Bytes(11, 0xFF),                      // an endless varint
      Bytes{0x32, 0x10, 'a'},               // envelope longer than the frame
      Bytes{0x12, 0x02, 0xC0, 0xFF},        // destination that is not UTF-8
      Bytes{},                              // a zero-length frame: an empty Submission
  };
  for (const auto& g : garbage) {
    BOOST_REQUIRE(g1.send_frame(g));
    const auto a = read_answer(g1);
    BOOST_REQUIRE_MESSAGE(a, "no answer to a garbage frame");
    BOOST_TEST(a->status() == relay::SubmitAnswer::REJECTED);
    BOOST_TEST(a->reason() == "malformed");
    BOOST_TEST(!a->message().empty());
  }
  {
    const std::string body = v1_submission(net.alpha.accounts[0], net.beta.accounts[0], 2000, net.rng).SerializeAsString();
    BOOST_REQUIRE(g1.send_frame(as_bytes(body)));
    const auto a = read_answer(g1);
    BOOST_REQUIRE_MESSAGE(a, "no answer to a good frame after garbage");
    BOOST_TEST(a->status() == relay::SubmitAnswer::ACCEPTED, a->reason());
    BOOST_TEST(a->request_id() == 2000u);
  }
  // Request id 0, accepted: its answer is an empty message, a zero-length frame, which decodes.
  {
    const std::string body = v1_submission(net.alpha.accounts[1], net.beta.accounts[1], 0, net.rng).SerializeAsString();
    BOOST_REQUIRE(g1.send_frame(as_bytes(body)));
    const auto a = read_answer(g1);
    BOOST_REQUIRE_MESSAGE(a, "no answer (or an undecodable one) to request id 0");
    BOOST_TEST(a->status() == relay::SubmitAnswer::ACCEPTED, a->reason());
    BOOST_TEST(a->request_id() == 0u);
    BOOST_TEST(a->SerializeAsString().empty());  // on the wire: 00 00 00 00
  }
  // A frame exactly at the limit passes framing (and fails as protobuf).
  {
    sim::Socket s = raw_connection(port);
    Bytes b = header(kMaxSubmitFrame);
    b.resize(b.size() + kMaxSubmitFrame, 0xFF);
    BOOST_REQUIRE(s.send_all(b));
    const auto a = read_answer(s);
    BOOST_REQUIRE_MESSAGE(a, "no answer to a frame of exactly the limit");
    BOOST_TEST(a->reason() == "malformed");
  }

  // Framing errors: an oversize length header, one byte over the limit. Each gets REJECTED with a
  // reason, then the relay closes that connection.
  const std::vector<std::pair<uint32_t, std::string>> framing = {
      {0xFFFFFFFFu, "too_large"}, {kMaxSubmitFrame + 1, "too_large"}};
  for (const auto& [len, reason] : framing) {
    BOOST_TEST_CONTEXT("length header " << len) {
      sim::Socket s = raw_connection(port);
      BOOST_REQUIRE(s.send_all(header(len)));
      const auto a = read_answer(s);
      BOOST_REQUIRE_MESSAGE(a, "no answer to a bad length header");
      BOOST_TEST(a->status() == relay::SubmitAnswer::REJECTED);
      BOOST_TEST(a->reason() == reason);
      BOOST_TEST(closed_by_relay(s), "the relay kept the broken connection open");
    }
  }

  worker.join();
  BOOST_REQUIRE_MESSAGE(parallel.error.empty(), parallel.error);
  BOOST_REQUIRE_MESSAGE(parallel.answered, "the parallel connection did not get every answer");
  BOOST_TEST(parallel.accepted == good.size());

  // Everything accepted arrives; nothing else does.
  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE_MESSAGE(wait_until(10s, [&] { return inbox.distinct() >= good.size() + 2; }),
                        "delivered " << inbox.distinct() << " of " << good.size() + 2);
  std::this_thread::sleep_for(150ms);
  BOOST_TEST(inbox.distinct() == good.size() + 2);
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));

  // Nothing hung behind the idle connection; the counters (one snapshot showing all of it).
  idle.close();
  BOOST_TEST(wait_until(2s, [&] {
    return counter(alpha, "submissions_accepted") == good.size() + 2 &&
           counter(alpha, "submit_frames_malformed") == framing.size() &&
           counter(alpha, "submissions_rejected") == garbage.size() + 1;
  }));
  BOOST_TEST(counter(alpha, "submissions_accepted") == good.size() + 2);
  BOOST_TEST(counter(alpha, "submit_frames_malformed") == framing.size());
  BOOST_TEST(counter(alpha, "submissions_rejected") == garbage.size() + 1);
  BOOST_TEST(rejected(alpha, "malformed") == garbage.size() + 1);
  BOOST_TEST(counter(alpha, "submit_connections") >= 7u);
}

BOOST_AUTO_TEST_CASE(invalid_submissions_are_rejected_with_a_reason) {
  Deployment net("submit-invalid");
  net.start();
  const sim::Account& from = net.alpha.accounts[0];
  const sim::Account& to = net.beta.accounts[0];
  auto base = [&](uint64_t id) { return v1_submission(from, to, id, net.rng); };

  std::vector<std::pair<relay::Submission, std::string>> cases;
  {
    auto s = base(1);
    s.set_destination("gamma.example");
    cases.push_back({s, "unknown_destination"});
  }
  {
    auto s = base(2);
    s.set_token("an anonymous token");
    cases.push_back({s, "invalid_argument"});
  }
  {
    auto s = base(3);
    s.set_access_key(std::string(15, 'k'));
    cases.push_back({s, "malformed"});
  }
  {
    auto s = base(4);
    s.clear_access_key();
    cases.push_back({s, "malformed"});
  }
  {
    auto s = base(5);
    s.clear_envelope();
    cases.push_back({s, "malformed"});
  }
  {
    auto s = base(6);
    s.clear_recipients();
    cases.push_back({s, "invalid_argument"});
  }
  {
    auto s = base(7);
    *s.add_recipients() = s.recipients(0);
    cases.push_back({s, "invalid_argument"});
  }
  {
    auto s = base(8);
    s.mutable_recipients(0)->set_service_id("not-a-uuid");
    cases.push_back({s, "invalid_service_id"});
  }
  {
    auto s = base(9);
    s.mutable_recipients(0)->set_devices(0, 0);
    cases.push_back({s, "invalid_device_id"});
  }
  {
    auto s = base(10);
    s.mutable_recipients(0)->set_devices(0, 128);
    cases.push_back({s, "invalid_device_id"});
  }
  {
    auto s = base(11);
    s.mutable_recipients(0)->clear_devices();
    cases.push_back({s, "invalid_argument"});
  }
  {
    auto s = base(12);
    (*s.mutable_envelope())[0] = '\x55';
    cases.push_back({s, "unknown_version"});
  }
  {
    auto s = v2_submission(from, {&to, &net.beta.accounts[1]}, 13, net.rng);
    s.mutable_envelope()->resize(20);  // a truncated SSv2 sent message
    cases.push_back({s, ""});         // any reason, as long as it is one
  }

  Submitter submitter(net.submit_port());
  for (const auto& [s, reason] : cases) BOOST_REQUIRE(submitter.send(s));
  BOOST_REQUIRE(submitter.send(base(99)));  // and a good one on the same connection
  BOOST_REQUIRE(submitter.wait_answers(5s));
  const auto answers = submitter.answers();
  std::map<std::string, uint64_t> by_reason;
  for (const auto& [s, reason] : cases) {
    BOOST_TEST_CONTEXT("submission " << s.request_id() << " (expect " << reason << ")") {
      BOOST_REQUIRE(answers.count(s.request_id()) == 1);
      const auto& a = answers.at(s.request_id());
      BOOST_TEST(a.status() == relay::SubmitAnswer::REJECTED);
      if (!reason.empty()) BOOST_TEST(a.reason() == reason);
      BOOST_TEST(!a.reason().empty());
      BOOST_TEST(a.reason() != "ok");
      BOOST_TEST(!a.message().empty());
      ++by_reason[a.reason()];
    }
  }
  BOOST_REQUIRE(answers.count(99) == 1);
  BOOST_TEST(answers.at(99).status() == relay::SubmitAnswer::ACCEPTED);

  auto& alpha = net.relay(kAlpha);
  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE(wait_until(5s, [&] { return inbox.has(99, to.uuid); }));
  // The metrics snapshot may lag the delivery: wait for one that shows everything.
  BOOST_REQUIRE(wait_until(2s, [&] {
    return counter(alpha, "submissions_rejected") == cases.size() && counter(alpha, "packets_sent") >= 1;
  }));
  std::this_thread::sleep_for(150ms);
  for (const auto& [reason, count] : by_reason) BOOST_TEST(rejected(alpha, reason) == count, reason);
  BOOST_TEST(counter(alpha, "submissions_accepted") == 1u);
  BOOST_TEST(counter(alpha, "packets_sent") == 1u);  // nothing rejected went anywhere
  BOOST_TEST(inbox.frames() == 1u);
}

BOOST_AUTO_TEST_CASE(access_proof_is_checked_at_the_deliver_stage) {
  Deployment net("submit-access");
  const auto& b = net.beta.accounts;
  net.node(kBeta).recipients[b[5].uuid] = "unrestricted";
  net.node(kBeta).recipients.erase(b[4].uuid);  // a user relay-beta does not serve
  net.start();
  const sim::Account& from = net.alpha.accounts[0];

  auto wrong = [](relay::Submission s) {
    (*s.mutable_access_key())[3] ^= 0x10;
    return s;
  };
  Submitter submitter(net.submit_port());
  std::set<std::pair<std::size_t, std::string>> expected;
  // 1: right key. 2: one bit off. 3: all zero.
  submitter.send(v1_submission(from, b[0], 1, net.rng));
  expected.insert({1, b[0].uuid});
  submitter.send(wrong(v1_submission(from, b[0], 2, net.rng)));
  {
    auto s = v1_submission(from, b[1], 3, net.rng);
    s.set_access_key(std::string(16, '\0'));
    submitter.send(s);
  }
  // 4: SSv2 with the combined key of all three. 5: combined key of only two of them.
  submitter.send(v2_submission(from, {&b[0], &b[1], &b[2]}, 4, net.rng));
  for (int i = 0; i < 3; ++i) expected.insert({4, b[static_cast<std::size_t>(i)].uuid});
  {
    auto s = v2_submission(from, {&b[0], &b[1], &b[2]}, 5, net.rng);
    const auto partial = sim::combined_access_key({&b[0], &b[1]});
    s.set_access_key(partial.data(), partial.size());
    submitter.send(s);
  }
  // 6: an unrestricted recipient takes any key. 7: SSv2 with one unrestricted recipient: the
  // combined key covers only the restricted one.
  {
    auto s = v1_submission(from, b[5], 6, net.rng);
    s.set_access_key(std::string(16, '\x5a'));
    submitter.send(s);
    expected.insert({6, b[5].uuid});
  }
  {
    auto s = v2_submission(from, {&b[0], &b[5]}, 7, net.rng);
    s.set_access_key(b[0].access_key.data(), b[0].access_key.size());
    submitter.send(s);
    expected.insert({7, b[0].uuid});
    expected.insert({7, b[5].uuid});
  }
  // 8: a recipient relay-beta does not serve. 9: an SSv2 message naming one.
  submitter.send(v1_submission(from, b[4], 8, net.rng));
  submitter.send(v2_submission(from, {&b[0], &b[4]}, 9, net.rng));

  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_TEST(submitter.accepted().size() == 9u);  // relay-alpha cannot judge beta's keys
  auto& beta = net.relay(kBeta);
  BOOST_REQUIRE_MESSAGE(wait_counter(beta, "deliveries_unwrapped", 9, 5s) == 9, "relay-beta did not unwrap all 9");
  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE(wait_until(5s, [&] { return inbox.distinct() >= expected.size(); }));
  std::this_thread::sleep_for(200ms);
  std::set<std::pair<std::size_t, std::string>> got;
  for (const auto& e : inbox.entries()) got.insert({e.message, e.delivery.recipient().service_id()});
  BOOST_TEST((got == expected), "delivered (message, recipient) pairs differ from the expected ones");
  BOOST_TEST(inbox.frames() == expected.size());
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  BOOST_TEST(wait_counter(beta, "deliveries_dropped_access", 3, 2s) == 3u);  // 2, 3, 5
  BOOST_TEST(counter(beta, "deliveries_dropped_unknown") == 2u);             // 8, 9
  BOOST_TEST(counter(beta, "deliveries_dropped_malformed") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

// Fixed size: every packet frame on every peer link has exactly the configured packet size, for
// envelopes from tiny to exactly the capacity; one byte more is rejected "too_large", never cut.
#include <boost/test/unit_test.hpp>

#include "crypto/packet_layer.h"
#include "harness.h"

namespace veil::it {

namespace {

constexpr std::size_t kPacket = 2048;
constexpr std::size_t kHops = 2;  // mix-1, relay-beta

// The largest filler length whose submission still fits the payload capacity exactly.
template <class Build>
std::size_t largest_fitting(Build build, std::size_t capacity) {
  std::size_t pad = 0;
  const std::size_t base = payload_size(build(0));
  if (base > capacity) throw std::logic_error("even an empty message exceeds the capacity");
  pad = capacity - base;  // sizes grow about one for one with the filler
  while (pad > 0 && payload_size(build(pad)) > capacity) --pad;
  while (payload_size(build(pad + 1)) <= capacity) ++pad;
  return pad;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fixed_size)

BOOST_AUTO_TEST_CASE(every_link_frame_is_exactly_the_packet_size) {
  Deployment net("fixed-size", {{"packet_size", kPacket},
                                {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2}}}});
  const auto taps = net.tap_all();
  net.start();

  const std::size_t capacity = crypto::payload_capacity(kPacket, kHops);
  const sim::Account& from = net.alpha.accounts[0];
  const sim::Account& to = net.beta.accounts[0];
  const std::vector<const sim::Account*> group = {&net.beta.accounts[1], &net.beta.accounts[2]};

  std::size_t n = 100;  // three digits throughout: every message text has the same overhead
  auto v1 = [&](std::size_t pad) { return v1_submission(from, to, n, net.rng, pad); };
  auto v2 = [&](std::size_t pad) { return v2_submission(from, group, n, net.rng, pad); };
  const std::size_t max_v1 = largest_fitting(v1, capacity);
  const std::size_t max_v2 = largest_fitting(v2, capacity);
  BOOST_TEST_MESSAGE("capacity " << capacity << " B; largest filler SSv1 " << max_v1 << ", SSv2 " << max_v2);

  // Accepted inputs: tiny to exactly the capacity.
  std::vector<relay::Submission> fits;
  std::map<std::size_t, std::string> envelope_of;  // SSv1 message -> its submitted envelope
  std::size_t expected_deliveries = 0;
  for (std::size_t pad : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64},
                          std::size_t{255}, std::size_t{256}, std::size_t{700}, max_v1 / 2, max_v1 - 1, max_v1}) {
    fits.push_back(v1(pad));
    envelope_of[n] = fits.back().envelope();
    ++expected_deliveries;
    ++n;
  }
  for (std::size_t pad : {std::size_t{0}, std::size_t{300}, max_v2 - 1, max_v2}) {
    fits.push_back(v2(pad));
    expected_deliveries += group.size();
    ++n;
  }
  BOOST_REQUIRE_EQUAL(payload_size(fits[10]), capacity);
  BOOST_REQUIRE_EQUAL(payload_size(fits.back()), capacity);
  for (const auto& s : fits) {
    const auto a = submit_one(net.submit_port(), s);
    BOOST_REQUIRE_MESSAGE(a, "no answer to submission " << s.request_id());
    BOOST_TEST_REQUIRE(a->status() == relay::SubmitAnswer::ACCEPTED,
                       "submission " << s.request_id() << " (" << payload_size(s) << " of " << capacity
                                     << " B) rejected: " << a->reason());
  }

  // One byte over the capacity, and far over it: rejected, never cut.
  const std::vector<relay::Submission> too_big = {v1(max_v1 + 1), v2(max_v2 + 1), v1(20'000)};
  for (const auto& s : too_big) {
    BOOST_REQUIRE_GT(payload_size(s), capacity);
    const auto a = submit_one(net.submit_port(), s);
    BOOST_REQUIRE_MESSAGE(a, "no answer to the oversized submission " << s.request_id());
    BOOST_TEST(a->status() == relay::SubmitAnswer::REJECTED);
    BOOST_TEST(a->reason() == "too_large");
    BOOST_TEST(a->request_id() == s.request_id());
  }

  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE_MESSAGE(wait_until(10s, [&] { return inbox.distinct() >= expected_deliveries; }),
                        "delivered " << inbox.distinct() << " of " << expected_deliveries);
  std::this_thread::sleep_for(200ms);
  const auto problems = inbox.problems();
  BOOST_TEST(problems.empty(), describe(problems));
  BOOST_TEST(inbox.distinct() == expected_deliveries);
  for (std::size_t big = fits.size(); big < fits.size() + too_big.size(); ++big) {
    BOOST_TEST(inbox.messages().count(too_big[big - fits.size()].request_id()) == 0u);
  }
  // SSv1 envelopes arrive byte for byte as submitted (nothing truncated or padded into them).
  for (const auto& e : inbox.entries()) {
    if (auto it = envelope_of.find(e.message); it != envelope_of.end()) {
      BOOST_TEST((e.delivery.envelope() == it->second), "envelope of message " << e.message << " changed");
    }
  }
  BOOST_TEST(rejected(net.relay(kAlpha), "too_large") == too_big.size());

  // Every packet frame on every link: one type byte, an 8-byte sequence number, P bytes.
  std::size_t frames = 0;
  for (const auto& [link, t] : taps) {
    for (const auto& p : t->packets()) {
      ++frames;
      BOOST_TEST_REQUIRE(p.frame_size == kPacket + 9,
                         "a packet frame of " << p.frame_size << " B on " << link.first << " -> " << link.second);
      BOOST_TEST_REQUIRE(p.packet.size() == kPacket);
    }
  }
  // alpha -> mix -> beta: each accepted submission crossed two links; the rejected ones none.
  BOOST_TEST(frames == 2 * fits.size());
  BOOST_TEST(counter(net.relay(kAlpha), "packets_sent") == fits.size());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

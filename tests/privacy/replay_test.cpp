// Replay: a packet captured on any link and sent again — on the same link, or on a fresh
// connection that claims to be the previous hop — is dropped and counted at the next hop
// (packets_dropped_replay), goes no further, and its original was delivered exactly once.
#include <boost/test/unit_test.hpp>

#include <map>

#include "support.h"

namespace veil::privacy {

BOOST_AUTO_TEST_SUITE(replay)

// Deterministic (no statistics). relay-alpha -> mix-1 -> relay-beta, no covers (so every count is
// exact), each of N packets replayed twice on alpha -> mix, once on mix -> beta, and once more on
// an attacker's own connection to the mix that says hello as relay-alpha.
BOOST_AUTO_TEST_CASE(replayed_packets_dropped_at_every_hop) {
  Watchdog guard(60);
  Spec spec;
  spec.mixes = 1;
  spec.seed = 601;
  spec.common = {{"mix_hops", 1},
                 {"packet_size", 2048},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2}}},
                 {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
  Deployment d(spec, "replay");
  sim::Tap& first = d.tap(kAlpha, "mix-1", true);
  sim::Tap& second = d.tap("mix-1", kBeta, true);
  d.start();

  const std::size_t n = 6;
  std::map<std::string, std::size_t> by_envelope;
  Submitter sub(d.submit_port());
  const auto& beta = d.beta.accounts;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string content = "replay victim " + std::to_string(i);
    const auto s = v1_submission(d.alpha.accounts[1], beta[i % beta.size()], as_bytes(content), d.rng, i);
    by_envelope[s.envelope()] = i;
    BOOST_REQUIRE_EQUAL(sub.submit(s).status(), veil::relay::SubmitAnswer::ACCEPTED);
  }
  BOOST_REQUIRE(wait_until(Millis(10'000), [&] { return d.beta_delivery_count() >= n; }));
  BOOST_REQUIRE(wait_until(Millis(2'000), [&] {
    return first.packet_count() == n && second.packet_count() == n;
  }));
  const auto on_first = first.packets();
  const auto on_second = second.packets();

  // Replays on the link they were captured on.
  for (int round = 0; round < 2; ++round) {
    for (const auto& p : on_first) BOOST_REQUIRE(first.inject(p.packet));
  }
  BOOST_CHECK(wait_until(Millis(5'000), [&] { return d.counter("mix-1", "packets_dropped_replay") >= 2 * n; }));
  for (const auto& p : on_second) BOOST_REQUIRE(second.inject(p.packet));
  BOOST_CHECK(wait_until(Millis(5'000), [&] { return d.counter(kBeta, "packets_dropped_replay") >= n; }));

  // Replays on the attacker's own connection, claiming to be relay-alpha (so the mix tries the
  // alpha -> mix pairwise key, the layer the packets were made with).
  {
    sim::Socket s = sim::Socket::connect_tcp(d.node("mix-1").peer_port);
    s.set_recv_timeout(Millis(5000));
    Bytes hello{kFrameHello};
    append(hello, as_bytes(std::string(kAlpha)));
    BOOST_REQUIRE(s.send_frame(hello));
    uint64_t seq = 1000;
    for (const auto& p : on_first) BOOST_REQUIRE(s.send_frame(packet_frame(seq++, p.packet)));
    BOOST_CHECK(wait_until(Millis(5'000), [&] { return d.counter("mix-1", "packets_dropped_replay") >= 3 * n; }));
    // The mix acknowledged every frame (cumulatively) like fresh ones: a replay is not told
    // apart on the link.
    uint64_t acked = 0;
    while (acked < seq - 1) {
      auto ack = s.recv_frame();
      BOOST_REQUIRE_MESSAGE(ack, "no acknowledgement up to " << seq - 1 << " (last " << acked << ")");
      BOOST_REQUIRE_EQUAL(ack->size(), 9u);
      BOOST_REQUIRE_EQUAL((*ack)[0], kFrameAck);
      acked = 0;
      for (std::size_t i = 1; i < 9; ++i) acked = acked << 8 | (*ack)[i];
    }
  }
  std::this_thread::sleep_for(Millis(500));  // a replay that got through would be delivered by now

  const uint64_t mix_replay = d.counter("mix-1", "packets_dropped_replay");
  const uint64_t beta_replay = d.counter(kBeta, "packets_dropped_replay");
  const uint64_t mix_auth = d.counter("mix-1", "packets_dropped_auth");
  const std::size_t second_after = second.packet_count();
  d.stop();

  std::map<std::size_t, std::size_t> delivered;
  for (const auto& x : d.beta_deliveries()) {
    auto it = by_envelope.find(x.delivery.envelope());
    BOOST_REQUIRE(it != by_envelope.end());
    ++delivered[it->second];
  }
  report("replay: %zu packets; replays dropped at mix %llu (expected %zu), at beta %llu (expected "
         "%zu); mix auth drops %llu; packets on mix -> beta after the replays %zu (before %zu); "
         "deliveries %zu",
         n, static_cast<unsigned long long>(mix_replay), 3 * n,
         static_cast<unsigned long long>(beta_replay), n, static_cast<unsigned long long>(mix_auth),
         second_after, on_second.size(), d.beta_delivery_count());
  BOOST_CHECK_EQUAL(mix_replay, 3 * n);
  BOOST_CHECK_EQUAL(beta_replay, n);
  BOOST_CHECK_EQUAL(mix_auth, 0u);
  BOOST_CHECK_EQUAL(second_after, n);  // no replay was forwarded
  BOOST_CHECK_EQUAL(delivered.size(), n);
  for (const auto& [i, count] : delivered) BOOST_CHECK_MESSAGE(count == 1, "input " << i << " delivered " << count << " times");
  BOOST_CHECK_EQUAL(d.beta_server().frames(), n);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy

// What the relay tells the admin endpoint, on a manual clock: readiness (ready, journal failing,
// draining), per-peer link state, the directory horizon, and the exposition of its metrics
// (cumulative histogram buckets that count every release, submissions by reason).
#include <boost/test/unit_test.hpp>

#include <string>

#include "proxy/relay/core/exposition.h"
#include "proxy/sim/admin_client.h"
#include "support.h"

namespace veil::relay_test {
namespace {

std::string exposition(sim::InProcessWorld& w, const std::string& name) {
  relay::ExpositionInput in;
  in.metrics = &w.relay(name).metrics();
  in.version = "test";
  in.role = w.relay(name).role() == relay::Role::provider ? "provider" : "mix";
  in.ready = w.relay(name).not_ready().empty();
  in.peers = w.relay(name).peer_links();
  if (w.relay(name).role() == relay::Role::provider) in.deliver = w.relay(name).deliver_link();
  return relay::render_exposition(in);
}

double value(const std::string& text, const std::string& series) {
  const auto v = sim::sample_value(text, series);
  BOOST_TEST_REQUIRE(v.has_value(), "no sample " << series);
  return *v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(ready_until_the_journal_fails_and_again_once_it_recovers) {
  JournaledAlpha f;
  auto& [journal, w, wire] = f;
  BOOST_TEST(w.relay(kAlpha).not_ready().empty());
  journal.fail(true);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  const std::vector<std::string> why = w.relay(kAlpha).not_ready();
  BOOST_TEST_REQUIRE(why.size() == 1u);
  BOOST_TEST(why[0].rfind("journal: failing", 0) == 0u, why[0]);
  BOOST_TEST(value(exposition(w, kAlpha), "veil_ready") == 0);
  journal.fail(false);
  w.advance(1'000'000);
  BOOST_TEST(w.relay(kAlpha).not_ready().empty());
  BOOST_TEST(value(exposition(w, kAlpha), "veil_ready") == 1);
}

BOOST_AUTO_TEST_CASE(a_drain_makes_the_relay_not_ready) {
  JournaledAlpha f([](relay::RelayConfig& c) {
    c.mix.strategy = relay::MixConfig::Strategy::poisson;
    c.mix.mean_delay = 2'000'000;
  });
  auto& w = f.w;
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  w.relay(kAlpha).drain(60'000'000, [] {});
  const std::vector<std::string> why = w.relay(kAlpha).not_ready();
  BOOST_TEST_REQUIRE(why.size() == 1u);
  BOOST_TEST(why[0] == "draining");
  BOOST_TEST(value(exposition(w, kAlpha), "veil_draining") == 1);
}

BOOST_AUTO_TEST_CASE(peer_links_and_the_exposition_follow_the_traffic) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) {
    c.mix.strategy = relay::MixConfig::Strategy::threshold;
    c.mix.threshold = 3;
  });
  w.start();
  std::vector<relay::PeerLinkStatus> links = w.relay(kAlpha).peer_links();
  BOOST_TEST_REQUIRE(links.size() == 2u);  // mix-1 and relay-beta
  for (const auto& l : links) {
    BOOST_TEST(l.up, l.name);
    BOOST_TEST(l.connects == 1u);
    BOOST_TEST(l.disconnects == 0u);
  }
  for (uint64_t n = 1; n <= 6; ++n) {  // one read each: the pool reaches 3 twice
    w.submitter(kAlpha).send(message_to_beta(w, n, n % 4));
    w.settle();
  }
  w.advance(100'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 6u);
  const std::string alpha = exposition(w, kAlpha);
  BOOST_TEST(value(alpha, "veil_submissions_total{result=\"accepted\",reason=\"ok\"}") == 6);
  BOOST_TEST(value(alpha, "veil_submissions_total{result=\"rejected\",reason=\"busy\"}") == 0);
  // Two threshold flushes of three: both batches in the le="3" bucket, none below it.
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_count") == 2);
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_sum") == 6);
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_bucket{le=\"1\"}") == 0);
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_bucket{le=\"3\"}") == 2);
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_bucket{le=\"+Inf\"}") == 2);
  BOOST_TEST(value(alpha, "veil_peer_link_up{peer=\"mix-1\"}") == 1);
  BOOST_TEST(value(alpha, "veil_peer_link_unacknowledged_packets{peer=\"mix-1\"}") == 0);
  BOOST_TEST(value(alpha, "veil_peer_link_connects_total{peer=\"mix-1\"}") == 1);
  const std::string beta = exposition(w, kBeta);
  BOOST_TEST(value(beta, "veil_deliveries_acknowledged_total") == 6);
  BOOST_TEST(value(beta, "veil_deliver_link_up") == 1);
  BOOST_TEST(value(beta, "veil_deliveries_pending") == 0);
  BOOST_TEST(!sim::sample_value(exposition(w, kMix), "veil_deliver_link_up").has_value());
  // The mix goes away: relay-alpha's link to it is down and counted.
  w.stop_relay(kMix);
  w.settle();
  links = w.relay(kAlpha).peer_links();
  BOOST_TEST_REQUIRE(links[0].name == kMix);  // directory order
  BOOST_TEST(!links[0].up);
  BOOST_TEST(links[0].disconnects == 1u);
  BOOST_TEST(links[1].up);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

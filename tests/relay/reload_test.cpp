// Relay::reconfigure on a manual clock: a new mix takes new packets at once while every pooled
// packet leaves at the release time it had; a threshold pool's packets join the new mix; cover
// rates and recipients change live; keys only a restart can apply are listed and kept.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include "support.h"

namespace veil::relay_test {
namespace {

using Strategy = relay::MixConfig::Strategy;

std::string describe(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p;
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reload)

BOOST_AUTO_TEST_CASE(pooled_packets_keep_their_release_times_and_new_ones_follow_the_new_mix) {
  JournaledAlpha f([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::poisson;
    c.mix.mean_delay = 2'000'000;
  });
  auto& [journal, w, wire] = f;
  std::vector<relay::Submission> batch;
  for (uint64_t i = 1; i <= 8; ++i) batch.push_back(message_to_beta(w, i));
  w.submitter(kAlpha).send_all(batch);
  w.settle();
  BOOST_REQUIRE(journal.packets.size() == 8u);
  std::multiset<Micros> due;
  for (const auto& [item, p] : journal.packets) due.insert(mono(w, p.release_at));
  BOOST_REQUIRE(w.relay(kAlpha).metrics().pool_now == 8u);

  relay::RelayConfig next = w.node(kAlpha).config;
  next.mix.strategy = Strategy::none;
  const relay::ReconfigureOutcome out = w.relay(kAlpha).reconfigure(next);
  BOOST_TEST(out.changed == std::vector<std::string>{"mix"});
  BOOST_TEST(out.needs_restart.empty());
  BOOST_TEST(wire.packets().empty());  // the reload flushed nothing
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 8u);

  // Two new messages leave at once under the new mix.
  const Micros now = w.clock.now();
  w.submitter(kAlpha).send(message_to_beta(w, 9));
  w.submitter(kAlpha).send(message_to_beta(w, 10));
  w.settle();
  BOOST_TEST(send_times(wire) == (std::multiset<Micros>{now, now}));
  // The eight pooled ones at exactly the times the Poisson mix gave them.
  w.advance(60'000'000);
  std::multiset<Micros> expected = due;
  expected.insert(now);
  expected.insert(now);
  BOOST_TEST(send_times(wire) == expected);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 10u);
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 0u);
  BOOST_TEST(w.relay(kAlpha).peer_links()[0].connects == 1u);  // no link was touched
}

// Relay::reload with text that fails the check changes nothing in the running relay: the Poisson
// mix keeps its pooled packets' times and takes new ones, cover stays off, and a missing key is not
// counted as a refused directory. (A full config with one bad key: integration.reload.)
BOOST_AUTO_TEST_CASE(a_refused_reload_leaves_the_running_config_in_force) {
  JournaledAlpha f([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::poisson;
    c.mix.mean_delay = 2'000'000;
  });
  auto& [journal, w, wire] = f;
  for (uint64_t i = 1; i <= 6; ++i) w.submitter(kAlpha).send(message_to_beta(w, i));
  w.settle();
  BOOST_REQUIRE(journal.packets.size() == 6u);
  std::multiset<Micros> due;
  for (const auto& [item, p] : journal.packets) due.insert(mono(w, p.release_at));
  const relay::RelayConfig running = w.node(kAlpha).config;

  // A mix strategy that does not exist, with a cover rate and a new mix that alone would apply.
  const relay::ReloadResult bad = w.relay(kAlpha).reload(
      "name = \"relay-alpha\"\nmix.strategy = \"bogus\"\ncover.drop_rate = 50\n", 0, running);
  BOOST_TEST(!bad.next.has_value());
  BOOST_TEST(bad.outcome.changed.empty());
  BOOST_TEST((std::find(bad.problems.begin(), bad.problems.end(),
                        "mix.strategy: unknown strategy \"bogus\" (one of none, threshold, timed, "
                        "threshold_or_timed, binomial, poisson)") != bad.problems.end()),
             describe(bad.problems));
  // Text that is not TOML at all.
  const relay::ReloadResult garbled = w.relay(kAlpha).reload("mix = [", 0, running);
  BOOST_TEST(garbled.problems.size() == 1u);
  BOOST_TEST(garbled.problems.at(0).rfind("line 1, column ", 0) == 0u, describe(garbled.problems));
  BOOST_TEST(w.counter(kAlpha, Counter::directory_refused) == 0u);

  // Still Poisson: a new message is pooled, not sent at once; no cover goes out.
  w.submitter(kAlpha).send(message_to_beta(w, 7));
  w.settle();
  BOOST_TEST(wire.packets().empty());
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 7u);
  BOOST_REQUIRE(journal.packets.size() == 7u);
  std::multiset<Micros> expected;
  for (const auto& [item, p] : journal.packets) expected.insert(mono(w, p.release_at));
  w.advance(60'000'000);
  BOOST_TEST(send_times(wire) == expected);
  for (const Micros t : due) BOOST_TEST(expected.count(t) >= 1u);  // the first six kept their times
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 7u);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_drop_sent) == 0u);
  BOOST_TEST(w.relay(kAlpha).peer_links()[0].connects == 1u);
}

BOOST_AUTO_TEST_CASE(a_threshold_pool_joins_the_new_mix) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::threshold;
    c.mix.threshold = 10;
  });
  w.start();
  for (uint64_t n = 1; n <= 4; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());  // 4 of 10: waiting
  relay::RelayConfig next = w.node(kAlpha).config;
  next.mix.strategy = Strategy::timed;
  next.mix.interval = 500'000;
  w.relay(kAlpha).reconfigure(next);
  w.advance(400'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
  w.advance(200'000);  // the first tick of the new mix
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_binomial_pool_down_to_min_pool_joins_the_new_mix) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::binomial;
    c.mix.interval = 100'000;
    c.mix.probability = 1.0;
    c.mix.min_pool = 3;
  });
  w.start();
  for (uint64_t n = 1; n <= 5; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  w.advance(1'000'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 2u);  // three always stay
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 3u);
  relay::RelayConfig next = w.node(kAlpha).config;
  next.mix.strategy = Strategy::timed;
  next.mix.interval = 200'000;
  w.relay(kAlpha).reconfigure(next);
  // The retiring binomial pool would never release its last three: they join the timed mix.
  w.advance(300'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 5u);
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 0u);
}

BOOST_AUTO_TEST_CASE(a_parameter_the_strategy_does_not_read_changes_nothing) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::timed;
    c.mix.interval = 500'000;
  });
  w.start();
  relay::RelayConfig next = w.node(kAlpha).config;
  next.mix.probability = 0.25;  // binomial's
  next.mix.mean_delay = 1;      // poisson's
  BOOST_TEST(w.relay(kAlpha).reconfigure(next).changed.empty());
}

BOOST_AUTO_TEST_CASE(cover_rates_and_recipients_change_live) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  relay::RelayConfig next = w.node(kBeta).config;
  // relay-beta no longer serves its first user; relay-alpha starts sending drop cover.
  const std::string dropped = w.provider(kBetaProvider).accounts.at(0).uuid;
  BOOST_REQUIRE(next.recipients.erase(dropped) == 1u);
  BOOST_TEST(w.relay(kBeta).reconfigure(next).changed == std::vector<std::string>{"recipients"});
  w.submitter(kAlpha).send(message_to_beta(w, 1, 0));
  w.submitter(kAlpha).send(message_to_beta(w, 2, 1));
  w.settle();
  w.advance(100'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_unknown) == 1u);

  relay::RelayConfig alpha = w.node(kAlpha).config;
  alpha.cover.drop_rate = 20;
  BOOST_TEST(w.relay(kAlpha).reconfigure(alpha).changed == std::vector<std::string>{"cover rates"});
  w.advance(2'000'000);
  BOOST_TEST(w.counter(kAlpha, Counter::cover_drop_sent) > 10u);
}

BOOST_AUTO_TEST_CASE(keys_only_a_restart_can_apply_are_listed_and_kept) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  relay::RelayConfig next = w.node(kAlpha).config;
  next.packet_size = 8192;
  next.mix_hops = 1;
  next.peer_listen.port = 9;
  next.per_peer_queue = 7;
  const relay::ReconfigureOutcome out = w.relay(kAlpha).reconfigure(next);
  BOOST_TEST(out.needs_restart == (std::vector<std::string>{"peer_listen", "packet_size", "mix_hops"}));
  BOOST_TEST(out.changed == std::vector<std::string>{"per_peer_queue"});
  // Still 4 KiB packets, still no mix hop: a message goes through as before.
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  w.advance(100'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

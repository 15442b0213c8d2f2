// Durability in process: a crash loses nothing a commit covered and nothing else was promised;
// the mix keeps its schedule across a restart (exact release times on the manual clock); delivery
// ids never repeat; replay tags survive; a failing journal refuses work and resumes by itself; a
// drain releases on schedule and keeps the rest.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <set>

#include "support.h"

namespace veil::relay_test {
namespace {

using Strategy = relay::MixConfig::Strategy;


Tune poisson(Micros mean) {
  return [mean](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::poisson;
    c.mix.mean_delay = mean;
  };
}

// `n` messages from relay-alpha's submitter in one batch, all accepted and journaled: their
// release times on the manual clock, in journal item order.
std::vector<Micros> fill_pool(JournaledAlpha& f, uint64_t n) {
  std::vector<relay::Submission> batch;
  for (uint64_t i = 1; i <= n; ++i) batch.push_back(message_to_beta(f.w, i));
  f.w.submitter(kAlpha).send_all(batch);
  f.w.settle();
  BOOST_REQUIRE(f.w.submitter(kAlpha).accepted() == n);
  BOOST_REQUIRE(f.journal.packets.size() == n);
  std::vector<Micros> due;
  for (const auto& [item, p] : f.journal.packets) due.push_back(mono(f.w, p.release_at));
  return due;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(a_crash_before_the_commit_loses_only_what_was_never_answered) {
  JournaledAlpha f;
  auto& [journal, w, wire] = f;
  journal.hold(true);
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).answers().empty());
  journal.crash();
  journal.hold(false);
  w.stop_relay(kAlpha);
  w.restart_relay(kAlpha);
  w.advance(1'000'000);
  BOOST_TEST(w.counter(kAlpha, Counter::packets_recovered) == 0u);
  BOOST_TEST(wire.packets().empty());  // nothing left before it was durable
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
}

BOOST_AUTO_TEST_CASE(a_poisson_pool_keeps_each_release_time_across_a_restart) {
  JournaledAlpha f(poisson(4'000'000));
  auto& [journal, w, wire] = f;
  const std::vector<Micros> due = fill_pool(f, 12);
  const Micros crash_at = w.clock.now() + 200'000;
  const Micros restart_at = crash_at + 1'500'000;
  w.advance(crash_at - w.clock.now());
  const std::size_t before = wire.packets().size();
  w.stop_relay(kAlpha);
  w.advance(restart_at - w.clock.now());
  w.restart_relay(kAlpha);
  BOOST_TEST(w.counter(kAlpha, Counter::packets_recovered) == 12u - before);
  w.advance(60'000'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 12u);
  // Each packet left at its own release time, or at the restart if that time passed meanwhile;
  // none early, none flushed.
  std::multiset<Micros> expected;
  for (Micros d : due) {
    if (d <= crash_at) {
      expected.insert(d);
    } else {
      expected.insert(std::max(d, restart_at));
    }
  }
  BOOST_TEST((send_times(wire) == expected));
  BOOST_TEST(journal.packets.empty());
}

BOOST_AUTO_TEST_CASE(a_timed_mix_keeps_its_tick_schedule_across_a_restart) {
  JournaledAlpha f([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::timed;
    c.mix.interval = 1'000'000;
  });
  auto& [journal, w, wire] = f;
  const Micros t0 = w.clock.now();
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_REQUIRE(w.submitter(kAlpha).accepted() == 3u);
  // Down from t0 + 0.4 s to t0 + 1.5 s: the tick at t0 + 1 s passed while it was down. The pool
  // leaves at the schedule's next tick, t0 + 2 s, not at the restart.
  w.advance(400'000);
  w.stop_relay(kAlpha);
  w.advance(1'100'000);
  w.restart_relay(kAlpha);
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 3u);
  for (uint64_t n = 4; n <= 5; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(wire.packets().empty());
  w.advance(499'999);
  BOOST_TEST(wire.packets().empty());
  w.advance(1);
  const std::vector<Micros> tick(5, t0 + 2'000'000);
  BOOST_TEST((send_times(wire) == std::multiset<Micros>(tick.begin(), tick.end())));
}

// A packet enters the mix only once durable: the k-th arrival's flush waits for its commit and
// leaves whole (holding back only the newest packet would send it last: linkable).
BOOST_AUTO_TEST_CASE(a_flush_waits_whole_for_its_newest_packets_commit) {
  JournaledAlpha f([](relay::RelayConfig& c) {
    c.mix.strategy = Strategy::threshold;
    c.mix.threshold = 4;
  });
  auto& [journal, w, wire] = f;
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  journal.hold(true);
  w.submitter(kAlpha).send(message_to_beta(w, 4));
  w.settle();
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 3u);  // the fourth is not mixed yet...
  BOOST_TEST(wire.packets().empty());                     // ...so nothing left
  journal.release();
  w.settle();
  BOOST_TEST(wire.packets().size() == 4u);  // together, in the flush's random order
}

BOOST_AUTO_TEST_CASE(delivery_ids_are_never_reused_across_restarts) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, nullptr, &journal);
  w.start();
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_REQUIRE(w.deliver(kBeta).deliveries().size() == 3u);  // and acknowledged
  BOOST_TEST(journal.deliveries.empty());
  for (int round = 0; round < 2; ++round) {
    w.stop_relay(kBeta);
    w.restart_relay(kBeta);
    w.advance(100'000);
    w.submitter(kAlpha).send(message_to_beta(w, 10 + round));
    w.advance(100'000);
  }
  std::vector<uint64_t> ids;
  for (const auto& d : w.deliver(kBeta).deliveries()) ids.push_back(d.delivery_id());
  BOOST_TEST((ids == std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

// The packet relay-alpha sent relay-beta, replayed after relay-beta restarted, with the replay
// tags in relay-beta's journal (`keep_tags`) or not (the control: the test can tell).
std::size_t deliveries_after_replay_across_restart(bool keep_tags) {
  TestJournal journal;
  relay::NullJournal none;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, nullptr,
                keep_tags ? static_cast<relay::Journal*>(&journal) : &none);
  Wire wire;
  wire.watch(w);
  w.start();
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_REQUIRE(w.deliver(kBeta).deliveries().size() == 1u);
  const Bytes seen = wire.packets().at(0).body;
  w.stop_relay(kBeta);
  w.restart_relay(kBeta);
  w.settle();
  Attacker attacker(w, kAlpha);
  attacker.send(seen);
  w.settle();
  if (keep_tags) BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 1u);
  attacker.stream->close();
  w.settle();
  return w.deliver(kBeta).deliveries().size();
}

BOOST_AUTO_TEST_CASE(a_packet_replayed_after_a_restart_is_dropped) {
  BOOST_TEST(deliveries_after_replay_across_restart(true) == 1u);
  BOOST_TEST(deliveries_after_replay_across_restart(false) == 2u);  // without the journal's tags
}

BOOST_AUTO_TEST_CASE(a_failing_journal_refuses_submissions_and_resumes_by_itself) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, &journal);
  w.start();
  auto& sub = w.submitter(kAlpha);
  sub.send(message_to_beta(w, 1));
  w.settle();
  BOOST_REQUIRE(sub.accepted() == 1u);
  journal.hold(true);
  sub.send(message_to_beta(w, 2));
  w.settle();
  journal.fail(true);  // the write that holds message 2 fails
  journal.hold(false);
  w.advance(1'000'000);
  BOOST_TEST(sub.answers().size() == 1u);  // accepted only once written
  w.stop_relay(kAlpha);  // ...a restart meanwhile would not have it, and it was never answered
  journal.crash();
  journal.fail(false);
  w.restart_relay(kAlpha);
  auto& again = w.submitter(kAlpha);
  journal.fail(true);
  again.send(message_to_beta(w, 3));
  w.settle();
  BOOST_REQUIRE(again.answers().size() == 1u);  // nothing waits: refused at once
  BOOST_TEST(again.answers()[0].reason() == "unavailable");
  journal.fail(false);  // a retry succeeds
  again.send(message_to_beta(w, 4));
  w.settle();
  BOOST_REQUIRE(again.answers().size() == 2u);
  BOOST_TEST(again.answers()[1].status() == relay::SubmitAnswer::ACCEPTED);
  w.advance(100'000);
  std::set<std::string> got;
  for (const auto& d : w.deliver(kBeta).deliveries()) got.insert(d.envelope());
  BOOST_TEST(got.size() == 2u);  // messages 1 and 4
}

BOOST_AUTO_TEST_CASE(while_the_journal_fails_peer_links_are_not_read_and_then_resume) {
  TestJournal beta_journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, nullptr, &beta_journal);
  w.start();
  beta_journal.fail(true);
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 3u);
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());  // not durable at relay-beta: not sent
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 3u);  // no ack yet
  for (uint64_t n = 4; n <= 5; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_received) == 3u);  // the link is paused
  beta_journal.fail(false);
  w.advance(100'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 5u);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);
}

// A provider's queue to its next hop fills with its own submissions (answered busy at the bound):
// it keeps reading its peer links, so what other providers send its users still arrives.
BOOST_AUTO_TEST_CASE(a_providers_full_queue_does_not_stop_its_deliveries) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) { c.per_peer_queue = 2; });
  w.start();
  w.stop_relay(kMix);  // relay-alpha's only next hop
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_REQUIRE(w.submitter(kAlpha).accepted() == 2u);  // the third: busy
  const sim::Account& from = w.provider(kBetaProvider).accounts.at(0);
  for (uint64_t n = 1; n <= 3; ++n) {  // one at a time: each its own read at relay-alpha
    const sim::Account& to = w.provider(kAlphaProvider).accounts.at(n);
    w.submitter(kBeta).send(sim::v1_submission(from, to, as_bytes(std::string("reply")), w.rng,
                                               n, kAlphaProvider));
    w.advance(100'000);
  }
  BOOST_TEST(w.submitter(kBeta).accepted() == 3u);
  BOOST_TEST(w.deliver(kAlpha).deliveries().size() == 3u);  // relay-beta -> relay-alpha directly
}

BOOST_AUTO_TEST_CASE(a_drain_releases_on_schedule_refuses_new_work_and_keeps_the_rest) {
  JournaledAlpha f(poisson(2'000'000));
  auto& [journal, w, wire] = f;
  std::vector<Micros> due = fill_pool(f, 10);
  std::sort(due.begin(), due.end());
  const Micros drain_at = w.clock.now();
  const Micros timeout = due[5] - drain_at + 1;  // the first six leave before the timeout
  bool done = false;
  w.relay(kAlpha).drain(timeout, [&] { done = true; });
  BOOST_TEST(w.relay(kAlpha).draining());
  w.submitter(kAlpha).send(message_to_beta(w, 11));
  w.settle();
  BOOST_REQUIRE(w.submitter(kAlpha).answers().size() == 11u);
  BOOST_TEST(w.submitter(kAlpha).answers()[10].reason() == "draining");
  w.advance(timeout);
  BOOST_TEST(done);
  BOOST_TEST((send_times(wire) == std::multiset<Micros>(due.begin(), due.begin() + 6)));  // no burst
  BOOST_TEST(journal.packets.size() == 4u);  // the rest is kept
  w.stop_relay(kAlpha);
  w.restart_relay(kAlpha);
  w.advance(30'000'000);
  BOOST_TEST((send_times(wire) == std::multiset<Micros>(due.begin(), due.end())));
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_drain_ends_as_soon_as_nothing_is_left) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, &journal);
  w.start();
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  bool done = false;
  w.relay(kAlpha).drain(60'000'000, [&] { done = true; });
  w.settle();
  BOOST_TEST(done);
  BOOST_TEST(journal.packets.empty());
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

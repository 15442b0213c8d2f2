// Crashes and restarts of real relay processes under load, with the RocksDB journal
// (docs/relay.md, "Durability"): kill -9 of each role in turn loses and duplicates nothing;
// SIGTERM drains on schedule, exits 0 and keeps the rest for the next start (no burst); a packet
// captured before a crash is still refused as a replay after the restart, which without a
// journal it is not.
//
// Each case prints one summary line (BOOST_TEST_MESSAGE) with what it measured.
#include <sys/wait.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstring>
#include <random>
#include <sstream>

#include "harness.h"
#include "load.h"
#include "proxy/relay/core/link_frame.h"

namespace veil::it {

using sim::Clock;

namespace {

const std::vector<std::string> kRoles = {kAlpha, kMix, kBeta};

// Accepted messages that relay-beta's messenger has not received yet.
std::size_t missing(const std::set<uint64_t>& accepted, const Inbox& inbox) {
  const std::set<std::size_t> got = inbox.messages();
  std::size_t k = 0;
  for (uint64_t n : accepted) k += got.count(n) == 0 ? 1 : 0;
  return k;
}

// Delivery ids the messenger saw with more than one content (each frame compared byte for byte).
std::size_t ids_reused(const std::vector<sim::Delivered>& frames) {
  std::map<uint64_t, std::string> first;
  std::set<uint64_t> reused;
  for (const auto& d : frames) {
    auto [it, fresh] = first.emplace(d.delivery.delivery_id(), d.raw);
    if (!fresh && it->second != d.raw) reused.insert(d.delivery.delivery_id());
  }
  return reused.size();
}

std::size_t distinct_ids(const std::vector<sim::Delivered>& frames) {
  std::set<uint64_t> ids;
  for (const auto& d : frames) ids.insert(d.delivery.delivery_id());
  return ids.size();
}

std::string min_median_max(std::vector<std::size_t> v) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  std::ostringstream os;
  os << v.front() << "/" << v[v.size() / 2] << "/" << v.back();
  return os.str();
}

std::string status_text(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + ::strsignal(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// gauges.<name> of a metrics snapshot (true/false read as 1/0); 0 before the first snapshot.
uint64_t gauge(const nlohmann::json& metrics, const char* name) {
  if (!metrics.contains("gauges") || !metrics["gauges"].contains(name)) return 0;
  const auto& g = metrics["gauges"][name];
  return g.is_boolean() ? (g.get<bool>() ? 1 : 0) : g.get<uint64_t>();
}

uint64_t ready_field(const sim::RelayProcess& r, const char* name) {
  const auto j = nlohmann::json::parse(r.ready_line(), nullptr, false);
  if (j.is_discarded() || !j.contains(name)) {
    throw std::runtime_error(r.name() + ": no " + name + " in its ready line: " + r.ready_line());
  }
  return j[name].get<uint64_t>();
}

// The end of every run under load: no accepted message missing, none under two delivery ids, no
// delivery id with two contents, nothing the Inbox objects to. `lost` and `duplicated` are
// returned for the summary.
struct Outcome {
  std::size_t accepted = 0;
  std::size_t delivered = 0;   // distinct messages at relay-beta's messenger
  std::size_t lost = 0;        // accepted, never delivered
  std::size_t duplicated = 0;  // delivery ids beyond one per message (same message, new id)
  std::size_t ids_reused = 0;  // delivery ids seen with different contents
  std::size_t duplicate_frames = 0;  // the same delivery id sent again (allowed)
  std::size_t unsolicited = 0;  // delivered messages the load never sent
};

Outcome settle_and_check(Deployment& net, Load& load, Millis bound) {
  Inbox& inbox = net.beta_inbox();
  const std::set<uint64_t> accepted = load.accepted();
  wait_until(bound, [&] { return missing(accepted, inbox) == 0; }, Millis(50));
  // Deliveries the messenger received but whose acks were lost in a crash come again after
  // deliver_retry_ms (500 ms here) or at the restart: give late repeats time to show.
  std::this_thread::sleep_for(1200ms);
  Outcome o;
  o.accepted = accepted.size();
  o.delivered = inbox.distinct();
  o.lost = missing(accepted, inbox);
  const auto frames = net.beta_deliveries();
  o.ids_reused = ids_reused(frames);
  o.duplicated = distinct_ids(frames) - std::min(distinct_ids(frames), inbox.distinct());
  o.duplicate_frames = inbox.duplicate_frames();
  for (std::size_t n : inbox.messages()) {
    if (n < load.first() || n >= load.first() + load.sent()) ++o.unsolicited;
  }
  BOOST_TEST(o.lost == 0u, o.lost << " accepted message(s) never delivered");
  BOOST_TEST(o.duplicated == 0u, o.duplicated << " message(s) delivered under a second delivery id");
  BOOST_TEST(o.ids_reused == 0u, o.ids_reused << " delivery id(s) reused for different content");
  BOOST_TEST(o.unsolicited == 0u);
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  BOOST_TEST(net.alpha_inbox().frames() == 0u);
  BOOST_TEST(load.error().empty(), "the load stopped early: " << load.error());
  return o;
}

std::string reasons_text(const std::map<std::string, std::size_t>& r) {
  if (r.empty()) return "none";
  std::ostringstream os;
  for (const auto& [reason, n] : r) os << (os.tellp() > 0 ? ", " : "") << reason << " " << n;
  return os.str();
}

// A peer connection to `port` that claims to be relay-alpha (with the null security layer the
// hello is the whole handshake) and sends `packets` as packet frames numbered from 1. Returns the
// highest sequence number the listener acknowledged within `timeout`.
uint64_t replay_as_alpha(uint16_t port, const std::vector<Bytes>& packets, Millis timeout) {
  sim::Socket s = sim::Socket::connect_tcp(port);
  s.set_recv_timeout(timeout);
  if (!s.send_frame(relay::encode_hello(kAlpha))) return 0;
  uint64_t seq = 0;
  for (const Bytes& p : packets) {
    const auto head = relay::encode_packet_header(++seq);
    Bytes body(head.begin(), head.end());
    body.insert(body.end(), p.begin(), p.end());
    if (!s.send_frame(body)) return 0;
  }
  uint64_t acked = 0;
  const auto deadline = Clock::now() + timeout;
  while (acked < seq && Clock::now() < deadline) {
    auto f = s.recv_frame();
    if (!f) break;
    auto frame = relay::decode_link_frame(*f, 0);
    if (frame && frame->type == relay::LinkFrameType::ack) acked = std::max(acked, frame->seq);
  }
  return acked;
}

// What a replay into a restarted relay-beta did.
struct ReplayResult {
  std::size_t replayed = 0;
  uint64_t acked = 0;
  uint64_t dropped_replay = 0;  // counted by the restarted relay-beta
  uint64_t unwrapped = 0;       // deliveries the restarted relay-beta opened
  std::size_t frames_before = 0;
  std::size_t frames_after = 0;  // Delivery frames at the messenger stand-in
  std::size_t duplicate_frames = 0;
  std::vector<std::string> problems;
};

// relay-alpha -> relay-beta directly (no mix, so the link carries the packets relay-beta opens);
// three messages are delivered and acknowledged, relay-beta is killed (-9) and restarted, and the
// packets captured on the link are sent to it again by a connection that claims to be relay-alpha.
ReplayResult replay_after_restart(const std::string& tag, bool beta_journal) {
  constexpr std::size_t kMessages = 3;
  Deployment net(tag, nlohmann::json::object(), /*with_mix=*/false);
  if (!beta_journal) net.configure(kBeta, {{"run_without_journal", true}});
  sim::Tap& link = net.tap(kAlpha, kBeta);  // records packet bytes
  net.start();
  Inbox& inbox = net.beta_inbox();
  Submitter submitter(net.submit_port());
  for (std::size_t n = 1; n <= kMessages; ++n) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[n % 6], n, net.rng)));
  }
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), kMessages);
  BOOST_REQUIRE_MESSAGE(wait_until(5s, [&] { return inbox.distinct() >= kMessages; }),
                        "delivered " << inbox.distinct() << " of " << kMessages);
  BOOST_REQUIRE_MESSAGE(wait_counter(net.relay(kBeta), "deliveries_acked", kMessages, 5s) == kMessages,
                        "relay-beta did not see every delivery acknowledged");
  std::vector<Bytes> packets;
  for (const auto& p : link.packets()) packets.push_back(p.packet);
  BOOST_REQUIRE_EQUAL(packets.size(), kMessages);

  const int status = net.kill(kBeta);
  BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                        "relay-beta was not running when killed: " << status_text(status));
  net.start(kBeta);
  auto& beta = net.relay(kBeta);
  ReplayResult r;
  r.replayed = packets.size();
  r.frames_before = net.beta_delivery_count();
  r.acked = replay_as_alpha(net.node(kBeta).peer_port, packets, 5s);
  BOOST_REQUIRE_MESSAGE(r.acked == packets.size(),
                        "relay-beta acknowledged " << r.acked << " of " << packets.size() << " replayed packets");
  BOOST_REQUIRE_EQUAL(wait_counter(beta, "packets_received", packets.size(), 3s), packets.size());
  if (!beta_journal) {  // a replay that gets through is delivered (and retried until acknowledged)
    wait_until(3s, [&] { return net.beta_delivery_count() >= r.frames_before + kMessages; });
  }
  std::this_thread::sleep_for(700ms);  // longer than deliver_retry_ms: a delivery would be out
  r.dropped_replay = counter(beta, "packets_dropped_replay");
  r.unwrapped = counter(beta, "deliveries_unwrapped");
  r.frames_after = net.beta_delivery_count();
  r.duplicate_frames = inbox.duplicate_frames();
  r.problems = inbox.problems();
  BOOST_TEST(counter(beta, "packets_dropped_auth") == 0u);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crash)

// kill -9 each role in turn at random moments under a steady load; every accepted message arrives
// exactly once.
BOOST_AUTO_TEST_CASE(kill_9_under_load_loses_and_duplicates_nothing) {
  sim::Watchdog dog(80);
  constexpr uint64_t kSeed = 0x5eedc4a5;
  constexpr int kKillsPerRole = 8;
  constexpr double kRate = 150;  // submissions per second
  Deployment net("crash-kill", {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 60}}}});
  net.start();
  Inbox& inbox = net.beta_inbox();
  std::mt19937_64 rng(kSeed);
  auto between = [&rng](int lo, int hi) { return Millis(std::uniform_int_distribution<int>(lo, hi)(rng)); };

  Load load(net, kRate, kSeed);
  std::this_thread::sleep_for(400ms);
  std::map<std::string, int> kills;
  std::vector<std::size_t> in_flight;
  const auto started = Clock::now();
  for (int i = 0; i < kKillsPerRole * 3; ++i) {
    std::this_thread::sleep_for(between(150, 600));
    const std::string& role = kRoles[i % 3];
    in_flight.push_back(missing(load.accepted(), inbox));
    const int status = net.kill(role);
    // Anything but our SIGKILL means the relay had died on its own.
    BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                          role << " was not running at kill " << i << ": " << status_text(status));
    ++kills[role];
    std::this_thread::sleep_for(between(0, 150));  // down for a moment
    net.start(role);
  }
  const auto killing = std::chrono::duration_cast<Millis>(Clock::now() - started);
  std::this_thread::sleep_for(300ms);
  load.stop();
  net.expect_running();

  const Outcome o = settle_and_check(net, load, 30s);
  const auto accepted = load.accepted();
  BOOST_TEST(o.accepted > 500u, "only " << o.accepted << " submissions were accepted");
  BOOST_TEST_MESSAGE("crash.kill_9: kills alpha " << kills[kAlpha] << ", mix " << kills[kMix] << ", beta "
                     << kills[kBeta] << " in " << killing.count() << " ms (seed " << kSeed << "); in flight at a kill min/median/max "
                     << min_median_max(in_flight) << "; sent " << load.sent() << ", accepted " << o.accepted
                     << ", rejected: " << reasons_text(load.rejected_by_reason()) << ", unanswered (connection died) "
                     << load.unanswered() << ", submit connections " << load.connections()
                     << "; delivered distinct " << o.delivered << ", lost " << o.lost << ", duplicated " << o.duplicated
                     << ", delivery ids reused " << o.ids_reused << ", duplicate frames (same id again, allowed) "
                     << o.duplicate_frames);
}

// SIGTERM each role twice under load, with packets in the pools of relay-alpha and mix-1 and
// unacknowledged deliveries at relay-beta: each drain ends with exit 0 and {"event":"drained"},
// what is left is recovered at the next start, and nothing is lost or doubled.
BOOST_AUTO_TEST_CASE(sigterm_drains_exit_cleanly_and_keep_the_rest) {
  sim::Watchdog dog(80);
  constexpr uint64_t kSeed = 0xd4a1;
  constexpr int kDrainMs = 500;
  Deployment net("crash-drain", {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 1000}}},
                                 {"drain_timeout_ms", kDrainMs}});
  net.start();
  Inbox& inbox = net.beta_inbox();
  std::mt19937_64 rng(kSeed);
  auto between = [&rng](int lo, int hi) { return Millis(std::uniform_int_distribution<int>(lo, hi)(rng)); };

  struct Round {
    std::string role;
    uint64_t pool = 0;        // in the relay's pool at SIGTERM (its latest snapshot)
    std::size_t in_flight = 0;
    uint64_t sent_during = 0;  // packets_sent while draining
    long stop_ms = 0;
    uint64_t recovered = 0;    // packets_recovered at the next start
    uint64_t deliveries_recovered = 0;
  };
  std::vector<Round> rounds;
  Load load(net, 80, kSeed);
  std::this_thread::sleep_for(1500ms);  // the pools fill
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(between(600, 1200));
    Round r;
    r.role = kRoles[i % 3];
    if (r.role == kBeta) {
      // relay-beta pools nothing (it delivers what it opens); deliveries its messenger has not
      // acknowledged are what it must keep through the drain instead.
      net.beta_server().withhold_acks(true);
      std::this_thread::sleep_for(300ms);
    }
    const auto before = net.metrics(r.role);
    r.pool = gauge(before, "pool");
    r.in_flight = missing(load.accepted(), inbox);
    const auto t0 = Clock::now();
    const int status = net.stop(r.role);
    r.stop_ms = std::chrono::duration_cast<Millis>(Clock::now() - t0).count();
    const std::string out = net.relay(r.role).output();
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), r.role << " ended with " << status_text(status));
    BOOST_TEST(out.find("{\"event\":\"draining\"}") != std::string::npos, r.role << " printed: " << out);
    BOOST_TEST(out.find("{\"event\":\"drained\"}") != std::string::npos, r.role << " printed: " << out);
    BOOST_TEST(r.stop_ms < kDrainMs + 2000, r.role << " took " << r.stop_ms << " ms to drain");
    const auto after = net.metrics(r.role);  // its final snapshot
    BOOST_TEST(gauge(after, "draining") == 1u);
    r.sent_during = sim::counter(after, "packets_sent") - sim::counter(before, "packets_sent");
    net.start(r.role);
    net.beta_server().withhold_acks(false);
    r.recovered = ready_field(net.relay(r.role), "packets_recovered");
    r.deliveries_recovered = ready_field(net.relay(r.role), "deliveries_recovered");
    rounds.push_back(r);
  }
  std::this_thread::sleep_for(500ms);
  load.stop();
  net.expect_running();

  // Mean 1 s per hop, three hops: allow for the tail.
  const Outcome o = settle_and_check(net, load, 40s);
  std::size_t with_recovery = 0, with_deliveries = 0;
  std::ostringstream per_round;
  for (const Round& r : rounds) {
    if (r.recovered > 0) ++with_recovery;
    if (r.deliveries_recovered > 0) ++with_deliveries;
    per_round << " [" << r.role << ": pool " << r.pool << ", in flight " << r.in_flight << ", sent while draining "
              << r.sent_during << ", stopped after " << r.stop_ms << " ms, recovered " << r.recovered << " packets/"
              << r.deliveries_recovered << " deliveries]";
  }
  BOOST_TEST(with_recovery > 0u, "no restart recovered a packet from the journal");
  BOOST_TEST(with_deliveries > 0u, "no restart of relay-beta recovered a pending delivery");
  // The metrics of the running relays agree with what their ready lines said.
  for (const std::string& role : kRoles) {
    BOOST_TEST(net.counter(role, "packets_recovered") == ready_field(net.relay(role), "packets_recovered"), role);
  }
  const auto reasons = load.rejected_by_reason();
  BOOST_TEST(reasons.count("draining") == 1u, "no submission was answered draining");
  BOOST_TEST_MESSAGE("crash.sigterm: 6 drains (drain_timeout_ms " << kDrainMs << ", mean delay 1000 ms), exit 0 each;"
                     << per_round.str() << "; restarts that recovered packets " << with_recovery << ", deliveries " << with_deliveries
                     << "; sent " << load.sent() << ", accepted " << o.accepted << ", rejected: " << reasons_text(reasons)
                     << ", unanswered " << load.unanswered() << "; delivered distinct " << o.delivered << ", lost "
                     << o.lost << ", duplicated " << o.duplicated << ", delivery ids reused " << o.ids_reused
                     << ", duplicate frames " << o.duplicate_frames);
}

// A drain sends only what falls due during it: with a mean delay of 5 s and a 1 s drain, about a
// fifth of the pool leaves; a flush would send all of it. The restart does not flush either.
BOOST_AUTO_TEST_CASE(a_drain_and_a_restart_do_not_flush_the_pool) {
  sim::Watchdog dog(40);
  constexpr std::size_t kMessages = 120;
  Deployment net("crash-burst");
  net.configure(kAlpha, {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 5000}}}, {"drain_timeout_ms", 1000}});
  sim::Tap& out = net.tap(kAlpha, kMix, /*keep_bytes=*/false);
  net.start();
  Submitter submitter(net.submit_port());
  for (std::size_t n = 0; n < kMessages; ++n) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[n % 4], net.beta.accounts[n % 6], n, net.rng)));
  }
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), kMessages);
  std::this_thread::sleep_for(200ms);  // a fresh metrics snapshot
  const uint64_t pool = gauge(net.metrics(kAlpha), "pool");
  const std::size_t before = out.packet_count();
  BOOST_REQUIRE_GE(pool + before, kMessages - 1);  // the snapshot may be one release behind
  BOOST_REQUIRE_GE(pool, kMessages / 2);

  const auto t0 = Clock::now();
  const int status = net.stop(kAlpha);
  const long stop_ms = std::chrono::duration_cast<Millis>(Clock::now() - t0).count();
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "relay-alpha ended with " << status_text(status));
  BOOST_TEST(net.relay(kAlpha).output().find("{\"event\":\"drained\"}") != std::string::npos);
  std::this_thread::sleep_for(100ms);  // the last frames through the tap
  const std::size_t during = out.packet_count() - before;
  const uint64_t left = gauge(net.metrics(kAlpha), "pool");  // final snapshot
  BOOST_TEST(during < pool / 2, during << " of " << pool << " pooled packets left during a 1 s drain (a burst)");
  BOOST_TEST(during > 0u, "nothing left during the drain: the pool was not released on schedule");

  net.start(kAlpha);
  const uint64_t recovered = ready_field(net.relay(kAlpha), "packets_recovered");
  BOOST_TEST(recovered >= left, "recovered " << recovered << " of the " << left << " left in the pool");
  const std::size_t at_start = out.packet_count();
  std::this_thread::sleep_for(600ms);
  const std::size_t after_start = out.packet_count() - at_start;
  BOOST_TEST(after_start < recovered / 2, after_start << " of " << recovered << " recovered packets left in the first 600 ms (a burst)");
  BOOST_TEST_MESSAGE("crash.no_burst: pool at SIGTERM " << pool << ", sent during the 1 s drain " << during
                     << " (stopped after " << stop_ms << " ms), left in the pool " << left << ", recovered at restart "
                     << recovered << ", sent in the first 600 ms after the restart " << after_start);
}

// A packet captured on the link before relay-beta crashed is refused as a replay after its restart:
// the replay tags are in its journal.
BOOST_AUTO_TEST_CASE(a_replay_after_a_crash_and_restart_is_dropped) {
  sim::Watchdog dog(40);
  const ReplayResult r = replay_after_restart("crash-replay", /*beta_journal=*/true);
  BOOST_TEST(r.dropped_replay == r.replayed, "relay-beta dropped " << r.dropped_replay << " of " << r.replayed << " replayed packets");
  BOOST_TEST(r.unwrapped == 0u);
  BOOST_TEST(r.frames_after == r.frames_before, "the replay produced " << r.frames_after - r.frames_before << " new delivery frame(s)");
  BOOST_TEST(r.problems.empty(), describe(r.problems));
  BOOST_TEST_MESSAGE("crash.replay: replayed " << r.replayed << " captured packets into the restarted relay-beta, acked "
                     << r.acked << ", packets_dropped_replay " << r.dropped_replay << ", new delivery frames "
                     << r.frames_after - r.frames_before);
}

// The control: the same replay into a relay-beta without a journal goes through and is delivered
// again, so the case above would catch a relay that forgot its replay tags in a crash.
BOOST_AUTO_TEST_CASE(without_a_journal_the_same_replay_is_delivered_again) {
  sim::Watchdog dog(40);
  const ReplayResult r = replay_after_restart("crash-replay-control", /*beta_journal=*/false);
  BOOST_TEST(r.dropped_replay == 0u);
  BOOST_TEST(r.unwrapped == r.replayed);
  BOOST_TEST(r.frames_after >= r.frames_before + r.replayed,
             "only " << r.frames_after - r.frames_before << " new delivery frame(s) from " << r.replayed << " replayed packets");
  // Delivery ids start again at 1 without a journal: the messenger sees old ids again, as
  // repeats (same content) or as problems (different content).
  BOOST_TEST(r.duplicate_frames + r.problems.size() > 0u);
  BOOST_TEST_MESSAGE("crash.replay_control (run_without_journal): replayed " << r.replayed << ", packets_dropped_replay "
                     << r.dropped_replay << ", new delivery frames " << r.frames_after - r.frames_before
                     << ", seen by the messenger as repeated ids " << r.duplicate_frames << " and problems "
                     << r.problems.size() << (r.problems.empty() ? "" : " (" + describe(r.problems, 2) + ")"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

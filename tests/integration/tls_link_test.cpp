// TLS links between real relays: a tap sees TLS records only (no packet frame, no recurring bytes,
// one record size per packet); a peer without a directory key, or one that names itself in a plain
// hello as the null slot allowed, is refused and counted; an epoch switch under traffic loses
// nothing and each relay says it switched.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <set>
#include <string>

#include "harness.h"
#include "proxy/sim/socket.h"

namespace veil::it {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kPacket = 4096;
// A packet frame (u32 length, type, u64 sequence number, packet) in one TLS 1.3 record:
// + 1 byte of content type and a 16-byte tag.
constexpr std::size_t kPacketRecord = 4 + 1 + 8 + kPacket + 1 + 16;

uint64_t link_counter(sim::RelayProcess& r, const std::string& name) {
  const nlohmann::json m = r.metrics();
  if (!m.contains("links")) return 0;
  return m["links"].value(name, uint64_t{0});
}

uint64_t wait_link_counter(sim::RelayProcess& r, const std::string& name, uint64_t at_least) {
  uint64_t v = 0;
  wait_until(5s, [&] { return (v = link_counter(r, name)) >= at_least; });
  return v;
}

// How many 12-byte windows of `bytes` (at every 4th offset) occur more than once.
std::size_t repeated_windows(const Bytes& bytes) {
  std::map<std::string, int> seen;
  std::size_t repeats = 0;
  for (std::size_t i = 0; i + 12 <= bytes.size(); i += 4) {
    if (++seen[std::string(bytes.begin() + static_cast<long>(i), bytes.begin() + static_cast<long>(i) + 12)] == 2) {
      ++repeats;
    }
  }
  return repeats;
}

// Sends `n` messages from relay-alpha's first user to relay-beta's users and waits for them.
void send_and_deliver(Deployment& net, std::size_t n) {
  Submitter submitter(net.submit_port());
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[i % 6], i, net.rng)));
  }
  BOOST_REQUIRE(submitter.wait_answers(10s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), n);
  BOOST_REQUIRE_MESSAGE(wait_until(15s, [&] { return net.beta_inbox().distinct() >= n; }),
                        "delivered " << net.beta_inbox().distinct() << " of " << n);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_link)

BOOST_AUTO_TEST_CASE(a_link_tap_sees_one_record_size_per_packet_and_no_packet_bytes) {
  constexpr std::size_t kMessages = 40;
  Deployment tls("tls-tap", {{"plain_links", false}, {"packet_size", kPacket}});
  sim::Tap& alpha_mix = tls.tap(kAlpha, kMix, true, true);
  sim::Tap& mix_beta = tls.tap(kMix, kBeta, true, true);
  tls.start();
  send_and_deliver(tls, kMessages);
  BOOST_TEST(wait_counter(tls.relay(kAlpha), "packets_sent", kMessages, 5s) >= kMessages);
  for (sim::Tap* tap : {&alpha_mix, &mix_beta}) {
    std::map<std::size_t, std::size_t> big;  // record length -> count, for records ≥ one packet
    std::size_t records = 0;
    for (const sim::TappedPacket& r : tap->packets()) {
      ++records;
      if (r.frame_size >= kPacket) ++big[r.frame_size];
    }
    BOOST_TEST_MESSAGE("records " << records << ", packet-sized lengths " << big.size());
    BOOST_TEST(big.size() == 1u, "every packet-sized record has one length");
    BOOST_TEST(big.begin()->first == kPacketRecord);
    BOOST_TEST(big.begin()->second >= kMessages);
    const Bytes stream = tap->stream_bytes(true);
    // No link frame of a packet in clear: u32 length 4109, then type 0x02.
    const Bytes header = {0x00, 0x00, 0x10, 0x0d, 0x02};
    BOOST_TEST((std::search(stream.begin(), stream.end(), header.begin(), header.end()) == stream.end()));
    BOOST_TEST(repeated_windows(stream) == 0u);
  }
  tls.stop();

  // The control: on plain links the same scan finds the frames and their recurring bytes.
  Deployment plain("tls-tap-control", {{"packet_size", kPacket}});
  sim::Tap& plain_tap = plain.tap(kAlpha, kMix, true, true);
  plain.start();
  send_and_deliver(plain, kMessages);
  BOOST_TEST(repeated_windows(plain_tap.stream_bytes(true)) > 0u);
}

BOOST_AUTO_TEST_CASE(a_peer_without_a_directory_key_is_refused_and_counted) {
  Deployment net("tls-refuse", {{"plain_links", false}});
  net.start();
  sim::RelayProcess& beta = net.relay(kBeta);
  const uint16_t port = net.node(kBeta).peer_port;

  // The null slot's handshake: a plain hello naming mix-1, then a packet frame. Not TLS: refused.
  {
    sim::Socket s = sim::Socket::connect_tcp(port);
    Bytes hello = {0x01};
    for (char c : std::string(kMix)) hello.push_back(static_cast<uint8_t>(c));
    BOOST_REQUIRE(s.send_frame(hello));
    Bytes packet(9 + 4096, 0x5a);
    packet[0] = 0x02;
    s.send_frame(packet);
    uint8_t buf[64];
    s.set_recv_timeout(5s);
    BOOST_TEST(s.recv_some(buf, sizeof buf) <= 0, "the relay closed the connection");
  }
  BOOST_TEST(wait_link_counter(beta, "handshakes_failed", 1) >= 1u);

  // A TLS client with an Ed25519 key of its own (not in the directory).
  const std::string d = net.dir().string();
  const std::string make =
      "openssl genpkey -algorithm ed25519 -out " + d + "/stranger.key 2>/dev/null && "
      "openssl req -new -x509 -key " + d + "/stranger.key -subj /CN=mix-1 -days 1 -out " + d + "/stranger.crt 2>/dev/null";
  BOOST_REQUIRE(std::system(make.c_str()) == 0);
  const std::string connect = "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -tls1_3 -cert " + d + "/stranger.crt -key " + d + "/stranger.key </dev/null >" + d +
                              "/s_client.log 2>&1";
  (void)std::system(connect.c_str());
  BOOST_TEST(wait_link_counter(beta, "peers_refused_unknown_key", 1) == 1u);
  BOOST_TEST(net.counter(kBeta, "packets_received") == 0u);
  // The relays' own links are up all along.
  send_and_deliver(net, 5);
  BOOST_TEST(link_counter(beta, "handshakes_completed") >= 1u);
}

BOOST_AUTO_TEST_CASE(a_directory_relay_answering_for_another_is_refused_by_the_dialer) {
  Deployment net("tls-impersonate", {{"plain_links", false}});
  // relay-beta's link to mix-1 goes through a tap that will lead to relay-alpha instead: a relay
  // of the directory, with a valid key, answering for another one.
  sim::Tap& beta_to_mix = net.tap(kBeta, kMix, false);
  net.start();
  beta_to_mix.set_target(net.node(kAlpha).peer_port);
  ::kill(net.relay(kMix).pid(), SIGKILL);  // drops relay-beta's link: it dials again, via the tap
  sim::RelayProcess& beta = net.relay(kBeta);
  BOOST_TEST(wait_link_counter(beta, "peers_refused_wrong_key", 1) >= 1u);
  net.stop(kMix, false);
}

BOOST_AUTO_TEST_CASE(an_epoch_switch_under_traffic_loses_nothing) {
  // Epochs of 60 s, the next switch 15 s after the directory is written (a slow start, as under a
  // sanitizer, must not start the relays in the next epoch already); traffic runs from the start
  // until 3 s after the switch.
  sim::DirectoryOptions dir;
  dir.epoch_length_s = 60;
  dir.genesis_unix_s = static_cast<int64_t>(std::time(nullptr)) - 45;
  const int64_t switch_at = dir.genesis_unix_s + 60;
  dir.valid_for_s = 3600;
  Deployment net("tls-epoch", {{"plain_links", false}, {"epoch_overlap_ms", 20000},
                               {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 200}}}},
                 true, dir);
  net.start();
  Submitter submitter(net.submit_port());
  std::size_t n = 0;
  while (static_cast<int64_t>(std::time(nullptr)) < switch_at + 3) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[n % 6], n, net.rng)));
    ++n;
    std::this_thread::sleep_for(50ms);
  }
  BOOST_REQUIRE(submitter.wait_answers(10s));
  BOOST_REQUIRE_EQUAL(submitter.accepted().size(), n);
  BOOST_REQUIRE_MESSAGE(wait_until(15s, [&] { return net.beta_inbox().distinct() >= n; }),
                        "delivered " << net.beta_inbox().distinct() << " of " << n);
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(wait_counter(net.relay(name), "epoch_switches", 1, 5s) == 1u);
      BOOST_TEST(net.counter(name, "packets_dropped_epoch") == 0u);
      BOOST_TEST(net.counter(name, "packets_dropped_auth") == 0u);
      BOOST_TEST(net.relay(name).output().find("{\"event\":\"epoch\",\"epoch\":1}") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(sighup_takes_a_newer_directory_and_refuses_a_bad_one) {
  Deployment net("tls-reload", {{"plain_links", false}});
  net.start();
  send_and_deliver(net, 5);
  const auto hup_all = [&] {
    for (const std::string name : {kAlpha, kMix, kBeta}) ::kill(net.relay(name).pid(), SIGHUP);
  };
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  net.publish_directory(2, /*tamper=*/true);
  hup_all();
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(wait_counter(net.relay(name), "directory_refused", 1, 5s) == 1u);
      const std::string out = net.relay(name).output();
      BOOST_TEST(out.find("\"event\":\"reload\",\"problems\":[\"directory_file: ") != std::string::npos, out);
      BOOST_TEST(out.find("\"result\":\"refused\",\"serial\":1}") != std::string::npos, out);
    }
  }
  net.publish_directory(2);
  hup_all();
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(wait_counter(net.relay(name), "directory_updates", 1, 5s) == 1u);
      BOOST_TEST(net.relay(name).output().find(
                     "{\"changed\":[\"directory\"],\"event\":\"reload\",\"needs_restart\":[],"
                     "\"result\":\"applied\",\"serial\":2}") != std::string::npos,
                 net.relay(name).output());
    }
  }
  // The same config again: applied, nothing changed, no directory refused or updated.
  hup_all();
  BOOST_TEST(wait_until(5s, [&] {
    return count(net.relay(kBeta).output(), "\"result\":\"applied\"") == 2u;
  }));
  BOOST_TEST(net.relay(kBeta).output().find(
                 "{\"changed\":[],\"event\":\"reload\",\"needs_restart\":[],\"result\":\"applied\",\"serial\":2}") !=
             std::string::npos);
  BOOST_TEST(net.counter(kBeta, "directory_refused") == 1u);
  BOOST_TEST(net.counter(kBeta, "directory_updates") == 1u);
  BOOST_TEST(net.counter(kBeta, "peer_disconnects") == 0u);
  Submitter submitter(net.submit_port());
  BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[0], 99, net.rng)));
  BOOST_REQUIRE(submitter.wait_answers(5s));
  BOOST_TEST(wait_until(10s, [&] { return net.beta_inbox().distinct() >= 6; }));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

// Peer links in process: sequence numbers, cumulative acks, the in-order resend after a drop,
// replayed or tampered frames at the next hop, a link without hello, a mix's backpressure.
#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/link_frame.h"
#include "support.h"

namespace veil::relay_test {

BOOST_AUTO_TEST_SUITE(link)

BOOST_AUTO_TEST_CASE(a_link_starts_with_the_hello_then_numbers_packets_from_one) {
  sim::InProcessWorld w;
  declare_world(w, false);
  Wire wire;
  wire.watch(w);
  w.start();
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  const auto frames = frames_in(wire.writes);
  BOOST_REQUIRE(frames.size() == 4u);
  BOOST_TEST(frames[0].type == static_cast<uint8_t>(relay::LinkFrameType::hello));
  BOOST_TEST(std::string(frames[0].body.begin() + 1, frames[0].body.end()) == kAlpha);
  for (std::size_t i = 1; i < 4; ++i) {
    BOOST_TEST(frames[i].type == static_cast<uint8_t>(relay::LinkFrameType::packet));
    BOOST_TEST(frames[i].seq == i);
    BOOST_TEST(frames[i].body.size() == relay::kLinkHeaderSize + 2048u);
  }
  BOOST_TEST(w.counter(kAlpha, Counter::packets_sent) == 3u);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);  // all acknowledged
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 3u);
}

BOOST_AUTO_TEST_CASE(after_a_link_drop_unacknowledged_packets_are_resent_in_order_and_forgotten_once) {
  JournaledAlpha f;
  auto& [journal, w, wire] = f;
  for (uint64_t n = 1; n <= 5; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  // alpha reads and prepares the five; beta reads them but its unwrap job is held: no ack yet.
  w.settle_network();
  BOOST_REQUIRE(w.executor.pending() == 1u);  // alpha's submit batch: the five came in one read
  w.executor.run_all();
  w.settle_network();
  BOOST_REQUIRE(w.executor.pending() == 1u);  // beta's unwrap batch of five frames, held
  const auto first = wire.packets();
  BOOST_REQUIRE(first.size() == 5u);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 5u);

  BOOST_TEST(w.net.sever(w.node(kBeta).config.peer_listen) == 1u);
  w.settle();  // beta applies its batch, but the link is gone: no ack
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 5u);
  BOOST_TEST(w.counter(kAlpha, Counter::peer_disconnects) == 1u);
  BOOST_TEST(journal.forgets == 0u);

  w.advance(50'000);  // the dialer's first backoff
  const auto all = wire.packets();
  BOOST_REQUIRE(all.size() == 10u);
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(all[5 + i].seq == 6 + i);  // numbering continues
    BOOST_TEST((ByteView(all[5 + i].body).subspan(9).size() == 2048u));
    BOOST_TEST((Bytes(all[5 + i].body.begin() + 9, all[5 + i].body.end()) ==
                Bytes(first[i].body.begin() + 9, first[i].body.end())));  // same packets, same order
  }
  BOOST_TEST(w.counter(kAlpha, Counter::packets_retransmitted) == 5u);
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 5u);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 5u);  // exactly once
  BOOST_TEST(journal.records == 5u);
  BOOST_TEST(journal.forgets == 5u);  // once per packet, at the ack
  auto forgotten = journal.forgotten;  // in the mix's (random) release order
  std::sort(forgotten.begin(), forgotten.end());
  BOOST_TEST((forgotten == std::vector<uint64_t>{1, 2, 3, 4, 5}));
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);
}

// relay-alpha → relay-beta with one message delivered, and the packet frame seen on the link.
struct OnePacketSeen {
  sim::InProcessWorld w;
  Wire wire;
  Bytes seen;  // a pairwise layer from relay-alpha, with its link header
  OnePacketSeen() {
    declare_world(w, false);
    wire.watch(w);
    w.start();
    w.submitter(kAlpha).send(message_to_beta(w, 1));
    w.settle();
    BOOST_REQUIRE(w.deliver(kBeta).deliveries().size() == 1u);
    seen = wire.packets().at(0).body;
  }
};

BOOST_FIXTURE_TEST_CASE(a_replayed_packet_is_dropped_and_a_tampered_one_fails_authentication,
                        OnePacketSeen) {

  Attacker attacker(w, kAlpha);
  attacker.send(seen);
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 1u);

  Bytes tampered = seen;
  tampered[relay::kLinkHeaderSize + 700] ^= 0x01;
  attacker.send(tampered);
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_auth) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::packets_received) == 3u);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);  // nothing more delivered

  attacker.send(ByteView(seen).first(100));  // a packet frame of the wrong size closes the link
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::peer_frames_malformed) == 1u);
  BOOST_TEST(attacker.ended);  // relay-beta closed the link
  attacker.stream->close();
}

BOOST_FIXTURE_TEST_CASE(a_link_without_hello_gets_no_pairwise_key, OnePacketSeen) {
  Attacker stranger(w, "");
  stranger.send(seen);  // no hello: the onion layer is the only one tried
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_auth) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 0u);
  stranger.stream->close();
}

BOOST_AUTO_TEST_CASE(a_mix_stops_reading_instead_of_dropping_while_a_peer_is_unreachable) {
  TestJournal mix_journal;
  sim::InProcessWorld w;
  w.add_provider(kAlphaProvider, 2);
  w.add_provider(kBetaProvider, 2);
  w.add_relay(kAlpha, kAlphaProvider, [](relay::RelayConfig& c) { c.mix_hops = 1; });
  w.add_relay(kMix, "", [](relay::RelayConfig& c) { c.per_peer_queue = 2; }, &mix_journal);
  w.add_relay(kBeta, kBetaProvider);
  w.start();
  w.stop_relay(kBeta);
  for (uint64_t n = 1; n <= 4; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 4u);
  BOOST_TEST(w.counter(kMix, Counter::packets_forwarded) == 4u);  // one read: one batch
  BOOST_TEST(w.relay(kMix).metrics().queue_now == 4u);  // kept, not dropped
  for (uint64_t n = 5; n <= 8; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 8u);
  BOOST_TEST(w.counter(kMix, Counter::packets_forwarded) == 4u);  // the link is not read
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 4u);  // so relay-alpha keeps them
  BOOST_TEST(mix_journal.forgets == 0u);
  w.restart_relay(kBeta);
  w.advance(5'000'000);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 8u);
  BOOST_TEST(mix_journal.records == 8u);
  BOOST_TEST(mix_journal.forgets == 8u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

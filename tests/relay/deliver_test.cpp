// The deliver stage in process: access checks, SSv2 fan-out, acknowledgements, retries and the
// resend after the messenger server reconnects.
#include <boost/test/unit_test.hpp>
#include <set>

#include "relay.pb.h"
#include "support.h"

namespace veil::relay_test {

BOOST_AUTO_TEST_SUITE(deliver)

BOOST_AUTO_TEST_CASE(an_unacknowledged_delivery_is_retried_after_deliver_retry_and_stops_at_the_ack) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, [](relay::RelayConfig& c) { c.deliver_retry = 2'000'000; }, 4,
                nullptr, &journal);
  w.start();
  auto& server = w.deliver(kBeta);
  server.withhold_acks(true);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_REQUIRE(server.deliveries().size() == 1u);
  BOOST_TEST(journal.delivery_records == 1u);
  w.advance(1'999'999);
  BOOST_TEST(server.deliveries().size() == 1u);
  w.advance(1);
  BOOST_REQUIRE(server.deliveries().size() == 2u);  // the retry tick at start + 2 s
  BOOST_TEST(server.deliveries()[1].delivery_id() == server.deliveries()[0].delivery_id());
  BOOST_TEST(server.deliveries()[1].envelope() == server.deliveries()[0].envelope());
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_retried) == 1u);
  server.ack_all();
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_acked) == 1u);
  BOOST_TEST(journal.delivery_forgets == 1u);
  w.advance(10'000'000);
  BOOST_TEST(server.deliveries().size() == 2u);  // nothing after the ack
}

BOOST_AUTO_TEST_CASE(after_the_deliver_link_drops_every_unacknowledged_delivery_goes_again_in_order) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& server = w.deliver(kBeta);
  server.withhold_acks(true);
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n, n));
  w.settle();
  BOOST_REQUIRE(server.deliveries().size() == 3u);
  BOOST_TEST(w.net.sever(w.node(kBeta).config.deliver_to) == 1u);
  server.withhold_acks(false);
  w.advance(50'000);  // the dialer's backoff
  BOOST_TEST(server.connections() == 2u);
  BOOST_REQUIRE(server.deliveries().size() == 6u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(server.deliveries()[3 + i].delivery_id() == server.deliveries()[i].delivery_id());
  }
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_retried) == 3u);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_acked) == 3u);
}

BOOST_AUTO_TEST_CASE(ssv2_fans_out_per_recipient_and_a_wrong_key_or_unknown_recipient_is_dropped) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  const auto& from = w.provider(kAlphaProvider).accounts.at(0);
  const auto& b = w.provider(kBetaProvider).accounts;
  auto& sub = w.submitter(kAlpha);
  sub.send(sim::v2_submission(from, {&b[0], &b[1], &b[2]}, as_bytes("all three"), w.rng, 1));
  auto wrong = sim::v2_submission(from, {&b[0], &b[1]}, as_bytes("wrong key"), w.rng, 2);
  wrong.set_access_key(b[0].access_key.data(), 16);
  sub.send(wrong);
  const auto& stranger = w.provider(kAlphaProvider).accounts.at(1);  // not served by relay-beta
  sub.send(sim::v1_submission(from, stranger, as_bytes("nobody here"), w.rng, 3));
  w.settle();
  BOOST_TEST(sub.accepted() == 3u);  // relay-alpha cannot judge relay-beta's recipients
  const auto& got = w.deliver(kBeta).deliveries();
  BOOST_REQUIRE(got.size() == 3u);
  std::set<std::string> envelopes;
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(got[i].recipient().service_id() == b[i].uuid);
    BOOST_TEST(got[i].recipient().devices_size() == 1);
    envelopes.insert(got[i].envelope());
  }
  BOOST_TEST(envelopes.size() == 3u);  // each recipient gets its own received message
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_access) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_unknown) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_malformed) == 0u);
}

BOOST_AUTO_TEST_CASE(a_malformed_acknowledgement_is_counted_and_changes_nothing) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& server = w.deliver(kBeta);
  server.withhold_acks(true);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  const uint8_t garbage[] = {0xff, 0xff, 0xff};
  server.send_frame(garbage);
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliver_frames_malformed) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_acked) == 0u);
  // A zero-length frame is DeliveryAck{delivery_id 0}: an id never sent, counted; the link stays.
  server.send_frame({});
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliver_acks_unknown) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliver_frames_malformed) == 1u);
  server.ack_all();
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_acked) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliver_connects) == 1u);  // never reconnected
  // The same ack again (as after a resend): counted as unknown, nothing else changes.
  relay::DeliveryAck again;
  again.set_delivery_id(server.deliveries().at(0).delivery_id());
  server.send_frame(as_bytes(again.SerializeAsString()));
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_acked) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::deliver_acks_unknown) == 2u);
}

BOOST_AUTO_TEST_CASE(a_wrong_access_key_is_accepted_by_the_sender_and_dropped_and_counted_by_the_receiver) {
  // The access check needs the recipient table, which only the receiving relay has: the sending
  // relay answers ACCEPTED (counted as accepted), the receiving relay drops the delivery and counts
  // it under access_denied. README, Interfaces, says so.
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto wrong = message_to_beta(w, 1);
  std::string key = wrong.access_key();
  key[0] = static_cast<char>(key[0] ^ 0x01);
  wrong.set_access_key(key);
  w.submitter(kAlpha).send(wrong);
  w.settle();
  w.advance(100'000);
  BOOST_REQUIRE(w.submitter(kAlpha).answers().size() == 1u);
  BOOST_TEST(w.submitter(kAlpha).answers()[0].status() == relay::SubmitAnswer::ACCEPTED);
  BOOST_TEST(w.counter(kAlpha, Counter::submissions_accepted) == 1u);
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_access) == 1u);
  BOOST_TEST(w.relay(kBeta).metrics().get(Counter::deliveries_unwrapped) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

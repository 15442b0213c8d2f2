// The journal seam in process: answers and link acks wait for the group commit; records carry the
// next hop; a restarted relay recovers what its journal kept and delivers it exactly once.
#include <boost/test/unit_test.hpp>
#include <set>

#include "support.h"

namespace veil::relay_test {

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(accepted_answers_wait_for_the_commit) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, &journal);
  w.start();
  journal.hold(true);
  auto& sub = w.submitter(kAlpha);
  for (uint64_t n = 1; n <= 3; ++n) sub.send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(journal.records == 3u);
  BOOST_TEST(journal.packets.empty());  // recorded, not yet durable
  BOOST_TEST(sub.answers().empty());
  BOOST_TEST(journal.held() >= 1u);
  journal.release();
  w.settle();
  BOOST_TEST(sub.accepted() == 3u);
}

BOOST_AUTO_TEST_CASE(a_packet_goes_on_the_link_only_once_durable_with_its_next_hop_recorded) {
  JournaledAlpha f;
  auto& [journal, w, wire] = f;
  journal.hold(true);
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 0u);  // released by the `none` mix...
  BOOST_TEST(wire.packets().empty());                     // ...but held until durable
  journal.release();
  w.settle();
  BOOST_TEST(wire.packets().size() == 3u);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 3u);
  BOOST_TEST(journal.records == 3u);
  BOOST_TEST(journal.forgets == 3u);
}

BOOST_AUTO_TEST_CASE(a_submitter_that_finishes_sending_still_gets_every_held_answer_before_the_close) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, &journal);
  w.start();
  journal.hold(true);
  auto& sub = w.submitter(kAlpha);
  for (uint64_t n = 1; n <= 3; ++n) sub.send(message_to_beta(w, n));
  const uint8_t zero_length[] = {0, 0, 0, 0};
  sub.send_raw(zero_length);  // a bad frame ends the input after the three
  w.settle();
  sub.end();
  w.settle();
  BOOST_TEST(sub.answers().empty());
  BOOST_TEST(!sub.closed());  // the close waits behind the held answers
  journal.release();
  w.settle();
  BOOST_REQUIRE(sub.answers().size() == 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(sub.answers()[i].request_id() == i + 1);
    BOOST_TEST(sub.answers()[i].status() == relay::SubmitAnswer::ACCEPTED);
  }
  BOOST_TEST(sub.answers()[3].reason() == "malformed");
  BOOST_TEST(sub.closed());
}

BOOST_AUTO_TEST_CASE(a_link_ack_waits_for_the_receivers_commit) {
  TestJournal alpha_journal;
  TestJournal beta_journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, &alpha_journal, &beta_journal);
  w.start();
  beta_journal.hold(true);
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(beta_journal.delivery_records == 3u);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 3u);  // sent, not acknowledged
  BOOST_TEST(alpha_journal.forgets == 0u);
  beta_journal.release();
  w.settle();
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);
  BOOST_TEST(alpha_journal.forgets == 3u);
  BOOST_TEST(alpha_journal.packets.empty());
}

BOOST_AUTO_TEST_CASE(a_restarted_relay_recovers_its_pool_and_delivers_each_message_once) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.mix.strategy = relay::MixConfig::Strategy::threshold;
    c.mix.threshold = 10;
  }, {}, {}, 4, &journal);
  w.start();
  for (uint64_t n = 1; n <= 3; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_REQUIRE(w.submitter(kAlpha).accepted() == 3u);
  BOOST_TEST(journal.packets.size() == 3u);
  w.stop_relay(kAlpha);  // the pool is lost with the process; the journal kept it
  w.restart_relay(kAlpha);
  BOOST_TEST(w.relay(kAlpha).metrics().pool_now == 3u);
  for (uint64_t n = 4; n <= 10; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.advance(100'000);  // reconnects to relay-beta
  const auto& got = w.deliver(kBeta).deliveries();
  BOOST_TEST(got.size() == 10u);
  std::set<std::string> envelopes;
  for (const auto& d : got) envelopes.insert(d.envelope());
  BOOST_TEST(envelopes.size() == 10u);  // ten different messages, none twice
  BOOST_TEST(journal.packets.empty());
  BOOST_TEST(journal.records == 10u);
}

BOOST_AUTO_TEST_CASE(a_restarted_relay_delivers_again_what_the_messenger_server_had_not_acknowledged) {
  TestJournal journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, nullptr, &journal);
  w.start();
  auto& server = w.deliver(kBeta);
  server.withhold_acks(true);
  for (uint64_t n = 1; n <= 2; ++n) w.submitter(kAlpha).send(message_to_beta(w, n, n));
  w.settle();
  BOOST_REQUIRE(server.deliveries().size() == 2u);
  BOOST_TEST(journal.deliveries.size() == 2u);
  w.stop_relay(kBeta);
  w.restart_relay(kBeta);
  w.advance(50'000);  // the deliver link comes back
  BOOST_REQUIRE(server.deliveries().size() == 4u);
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST(server.deliveries()[2 + i].delivery_id() == server.deliveries()[i].delivery_id());
    BOOST_TEST(server.deliveries()[2 + i].envelope() == server.deliveries()[i].envelope());
  }
  server.ack_all();
  w.settle();
  BOOST_TEST(journal.deliveries.empty());
  BOOST_TEST(journal.delivery_forgets == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

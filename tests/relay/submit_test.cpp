// The submit stage in process: answers in submission order whatever order workers finish in,
// one read as one batch, reading paused at eight batches in flight, `busy` at the per-peer bound,
// and rejections with reason codes.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>

#include "support.h"

namespace veil::relay_test {

namespace {

std::vector<uint64_t> ids(const std::vector<relay::SubmitAnswer>& answers) {
  std::vector<uint64_t> out;
  for (const auto& a : answers) out.push_back(a.request_id());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(submit)

BOOST_AUTO_TEST_CASE(answers_follow_submission_order_when_workers_finish_newest_first) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& sub = w.submitter(kAlpha);
  for (uint64_t n = 1; n <= 3; ++n) {
    sub.send(message_to_beta(w, n));
    w.settle_network();  // one read, one batch each
  }
  BOOST_REQUIRE(w.executor.pending() == 3u);
  BOOST_TEST(w.executor.run_newest_first() == 3u);
  w.settle();
  BOOST_TEST((ids(sub.answers()) == std::vector<uint64_t>{1, 2, 3}));
  BOOST_TEST(sub.accepted() == 3u);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 3u);
}

BOOST_AUTO_TEST_CASE(submissions_of_one_read_form_one_batch_answered_in_order) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& sub = w.submitter(kAlpha);
  std::vector<relay::Submission> five;
  for (uint64_t n = 1; n <= 5; ++n) five.push_back(message_to_beta(w, n));
  sub.send_all(five);
  w.settle_network();
  BOOST_TEST(w.executor.pending() == 1u);
  w.settle();
  BOOST_TEST((ids(sub.answers()) == std::vector<uint64_t>{1, 2, 3, 4, 5}));
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 5u);
  BOOST_TEST(w.relay(kAlpha).metrics().queue_now == 0u);  // one cumulative ack covered them
}

BOOST_AUTO_TEST_CASE(reading_pauses_at_eight_batches_in_flight_and_resumes_as_they_complete) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& sub = w.submitter(kAlpha);
  for (uint64_t n = 1; n <= 10; ++n) {
    sub.send(message_to_beta(w, n));
    w.settle_network();
  }
  BOOST_TEST(w.executor.pending() == 8u);  // the ninth and tenth wait unread
  BOOST_TEST(sub.answers().empty());
  w.settle();
  BOOST_TEST(sub.answers().size() == 10u);
  BOOST_TEST((ids(sub.answers()) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

BOOST_AUTO_TEST_CASE(a_full_next_hop_queue_answers_busy_in_order_and_accepts_again_once_drained) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) { c.per_peer_queue = 3; });
  w.start();
  w.stop_relay(kBeta);
  auto& sub = w.submitter(kAlpha);
  for (uint64_t n = 1; n <= 5; ++n) sub.send(message_to_beta(w, n));
  w.settle();
  BOOST_REQUIRE(sub.answers().size() == 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(sub.answers()[i].request_id() == i + 1);
    const bool busy = i >= 3;
    BOOST_TEST((sub.answers()[i].status() == relay::SubmitAnswer::ACCEPTED) == !busy);
    if (busy) BOOST_TEST(sub.answers()[i].reason() == "busy");
  }
  BOOST_TEST(w.relay(kAlpha).metrics().rejected_by_reason[static_cast<int>(Error::busy)] == 2u);
  w.restart_relay(kBeta);
  w.advance(5'000'000);  // alpha's dialer finds relay-beta again
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 3u);
  sub.send(message_to_beta(w, 6));
  w.settle();
  BOOST_TEST(sub.answers().back().status() == relay::SubmitAnswer::ACCEPTED);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 4u);
}

BOOST_AUTO_TEST_CASE(invalid_submissions_get_their_reason_and_a_bad_frame_ends_the_connection) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& sub = w.submitter(kAlpha);
  auto unknown = message_to_beta(w, 1);
  unknown.set_destination("nowhere.example");
  sub.send(unknown);
  auto short_key = message_to_beta(w, 2);
  short_key.set_access_key("short");
  sub.send(short_key);
  auto bad_device = message_to_beta(w, 3);
  bad_device.mutable_recipients(0)->set_devices(0, 200);
  sub.send(bad_device);
  w.settle();
  BOOST_REQUIRE(sub.answers().size() == 3u);
  BOOST_TEST(sub.answers()[0].reason() == "unknown_destination");
  BOOST_TEST(sub.answers()[1].reason() == "malformed");
  BOOST_TEST(sub.answers()[2].reason() == "invalid_device_id");
  BOOST_TEST(w.counter(kAlpha, Counter::submissions_rejected) == 3u);
  // A zero-length frame is an empty Submission: answered malformed, the connection stays.
  const uint8_t zero_length[] = {0, 0, 0, 0};
  sub.send_raw(zero_length);
  w.settle();
  BOOST_REQUIRE(sub.answers().size() == 4u);
  BOOST_TEST(sub.answers()[3].reason() == "malformed");
  BOOST_TEST(sub.answers()[3].request_id() == 0u);
  BOOST_TEST(!sub.closed());
  BOOST_TEST(w.counter(kAlpha, Counter::submit_frames_malformed) == 0u);
  // A length above the limit ends the connection.
  const uint8_t huge[] = {0xFF, 0xFF, 0xFF, 0xFF};
  sub.send_raw(huge);
  w.settle();
  BOOST_REQUIRE(sub.answers().size() == 5u);
  BOOST_TEST(sub.answers()[4].reason() == "too_large");
  BOOST_TEST(w.counter(kAlpha, Counter::submit_frames_malformed) == 1u);
  BOOST_TEST(sub.closed());
}

BOOST_AUTO_TEST_CASE(service_ids_in_any_case_reach_the_recipient_and_a_device_counts_once) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  auto& sub = w.submitter(kAlpha);
  const std::string canonical = w.provider(kBetaProvider).accounts.at(0).uuid;
  std::string upper = canonical;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  BOOST_REQUIRE(upper != canonical);
  auto shouting = message_to_beta(w, 1);
  shouting.mutable_recipients(0)->set_service_id(upper);
  sub.send(shouting);
  auto repeated = message_to_beta(w, 2);
  repeated.mutable_recipients(0)->clear_devices();
  for (int i = 0; i < 3; ++i) repeated.mutable_recipients(0)->add_devices(1);
  sub.send(repeated);
  w.settle();
  w.advance(100'000);
  BOOST_REQUIRE(sub.answers().size() == 2u);
  BOOST_TEST(sub.answers()[0].status() == relay::SubmitAnswer::ACCEPTED);
  BOOST_TEST(sub.answers()[1].reason() == "duplicate_recipient");
  // Delivered once, to the recipient as the recipient table names it (canonical form).
  BOOST_REQUIRE(w.deliver(kBeta).deliveries().size() == 1u);
  BOOST_TEST(w.deliver(kBeta).deliveries()[0].recipient().service_id() == canonical);
  BOOST_TEST(w.counter(kBeta, Counter::deliveries_dropped_unknown) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test

// UnidentifiedSenderMessageContent: encoding as libsignal does, and parse rejections.
#include <boost/test/unit_test.hpp>

#include "crypto/message_content.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::World;

BOOST_AUTO_TEST_SUITE(message_content)

BOOST_AUTO_TEST_CASE(round_trips_every_type) {
  World w;
  for (ContentType t : {ContentType::prekey, ContentType::message, ContentType::senderkey,
                        ContentType::plaintext}) {
    auto c = MessageContent::parse(w.usmc(nullptr, t));
    BOOST_TEST_REQUIRE(c.ok());
    BOOST_TEST(c->type == t);
    BOOST_TEST((c->content == Bytes(test::kContent.begin(), test::kContent.end())));
    BOOST_TEST(c->content_hint == 0u);
    BOOST_TEST(!c->group_id.has_value());
    BOOST_TEST(c->sender.serialized == w.sender_cert.serialized);
  }
}

BOOST_AUTO_TEST_CASE(hint_and_group_id_are_kept_and_defaults_omitted) {
  World w;
  const Bytes group = {'g', 'i', 'd'};
  const Bytes with = MessageContent::serialize(ContentType::senderkey, w.sender_cert.serialized,
                                               Bytes{1}, 5, group);
  auto c = MessageContent::parse(with);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(c->content_hint == 5u);
  BOOST_TEST_REQUIRE(c->group_id.has_value());
  BOOST_TEST(*c->group_id == group);
  const Bytes without = MessageContent::serialize(ContentType::senderkey, w.sender_cert.serialized,
                                                  Bytes{1}, 0, {});
  // Type 7, then the certificate and content; no field 4 or 5.
  Bytes expected;
  test::pb_varint(expected, 1, 7);
  test::pb_bytes(expected, 2, w.sender_cert.serialized);
  test::pb_bytes(expected, 3, Bytes{1});
  BOOST_TEST(without == expected);
}

BOOST_AUTO_TEST_CASE(fields_in_any_order_parse) {
  World w;
  Bytes m;
  test::pb_bytes(m, 5, Bytes{7});
  test::pb_bytes(m, 3, Bytes{9});
  test::pb_varint(m, 4, 2);
  test::pb_bytes(m, 2, w.sender_cert.serialized);
  test::pb_varint(m, 1, 8);
  auto c = MessageContent::parse(m);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(c->type == ContentType::plaintext);
  BOOST_TEST(c->content_hint == 2u);
}

BOOST_AUTO_TEST_CASE(empty_group_id_reads_as_absent) {
  World w;
  Bytes m = w.usmc();
  test::pb_bytes(m, 5, {});
  auto c = MessageContent::parse(m);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(!c->group_id.has_value());
}

BOOST_AUTO_TEST_CASE(rejects_missing_or_unknown_fields) {
  World w;
  const Bytes cert = w.sender_cert.serialized;
  auto build = [&](std::optional<uint64_t> type, bool with_cert, bool with_content) {
    Bytes m;
    if (type) test::pb_varint(m, 1, *type);
    if (with_cert) test::pb_bytes(m, 2, cert);
    if (with_content) test::pb_bytes(m, 3, Bytes{1, 2});
    return m;
  };
  BOOST_TEST(MessageContent::parse(build(2, true, true)).ok());
  BOOST_TEST(MessageContent::parse(build(std::nullopt, true, true)).error() == Error::malformed);
  BOOST_TEST(MessageContent::parse(build(2, false, true)).error() == Error::malformed);
  BOOST_TEST(MessageContent::parse(build(2, true, false)).error() == Error::malformed);
  for (uint64_t t : {0u, 3u, 4u, 6u, 9u}) {
    BOOST_TEST(MessageContent::parse(build(t, true, true)).error() == Error::malformed, t);
  }
  Bytes bad_cert;
  test::pb_varint(bad_cert, 1, 2);
  test::pb_bytes(bad_cert, 2, Bytes{0x0a, 0x01, 0x00});
  test::pb_bytes(bad_cert, 3, Bytes{1});
  BOOST_TEST(MessageContent::parse(bad_cert).error() == Error::malformed);
  BOOST_TEST(MessageContent::parse({}).error() == Error::malformed);
}

BOOST_AUTO_TEST_CASE(type_names_round_trip) {
  for (ContentType t : {ContentType::prekey, ContentType::message, ContentType::senderkey,
                        ContentType::plaintext}) {
    auto back = parse_content_type(content_type_name(t));
    BOOST_TEST_REQUIRE(back.ok());
    BOOST_TEST(*back == t);
  }
  BOOST_TEST(parse_content_type("whisper").error() == Error::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

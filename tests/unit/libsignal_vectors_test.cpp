// Golden vectors made by libsignal-client (vectors/make_vectors.mjs): Veil opens and parses them field by field.
#include <boost/test/unit_test.hpp>

#include "crypto/sealed_sender.h"
#include "test_support.h"
#include "vectors/libsignal_vectors.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;
namespace ls = veil::test::libsignal;

namespace {

constexpr uint64_t kNow = ls::kExpires - 86'400'000;

TrustPolicy libsignal_policy() {
  TrustPolicy p;
  p.roots = {test::public_key_from_hex(ls::kTrustRootPublic)};
  return p;
}

void check_sender(const SenderCertificate& c) {
  BOOST_TEST(c.sender_uuid == ls::kSenderUuid);
  BOOST_TEST(!c.uuid_as_bytes);
  BOOST_TEST(c.sender_e164.value_or("") == ls::kSenderE164);
  BOOST_TEST(c.sender_device == ls::kSenderDevice);
  BOOST_TEST(c.expires_ms == ls::kExpires);
  BOOST_TEST(hexs(c.identity_key.serialize()) == ls::kSenderIdentityPublic);
  BOOST_TEST_REQUIRE(c.signer.has_value());
  BOOST_TEST(c.signer->key_id == ls::kServerKeyId);
  BOOST_TEST(hexs(c.signer->key.serialize()) == ls::kServerPublic);
  BOOST_TEST(hexs(c.serialized) == ls::kSenderCertificate);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(libsignal_vectors)

BOOST_AUTO_TEST_CASE(certificates_parse_and_validate) {
  auto server = ServerCertificate::parse(unhex(ls::kServerCertificate));
  BOOST_TEST_REQUIRE(server.ok());
  BOOST_TEST(server->key_id == ls::kServerKeyId);
  BOOST_TEST(validate_server_certificate(*server, libsignal_policy()));
  auto sender = SenderCertificate::parse(unhex(ls::kSenderCertificate));
  BOOST_TEST_REQUIRE(sender.ok());
  check_sender(*sender);
  BOOST_TEST(validate_sender_certificate(*sender, libsignal_policy(), ls::kExpires) == Error::ok);
  BOOST_TEST(validate_sender_certificate(*sender, libsignal_policy(), ls::kExpires + 1) ==
             Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(trust_root_private_key_matches_public) {
  BOOST_TEST(hexs(test::key_pair_from_hex(ls::kTrustRootPrivate).pub.serialize()) ==
             ls::kTrustRootPublic);
  BOOST_TEST(hexs(test::key_pair_from_hex(ls::kAlicePrivate).pub.serialize()) == ls::kAlicePublic);
}

BOOST_AUTO_TEST_CASE(v1_message_decrypts_to_libsignal_usmc) {
  const KeyPair alice = test::key_pair_from_hex(ls::kAlicePrivate);
  auto v1 = decrypt_v1(unhex(ls::kV1Message), alice);
  BOOST_TEST_REQUIRE(v1.ok());
  BOOST_TEST(hexs(v1->usmc) == ls::kV1Usmc);
  BOOST_TEST(hexs(v1->sender_static.serialize()) == ls::kSenderIdentityPublic);
}

BOOST_AUTO_TEST_CASE(v1_message_opens_with_every_field) {
  const KeyPair alice = test::key_pair_from_hex(ls::kAlicePrivate);
  CertificateValidator v(libsignal_policy());
  auto opened = open_sealed(unhex(ls::kV1Message), alice, v, kNow);
  BOOST_TEST_REQUIRE(opened.ok());
  BOOST_TEST(opened->version == 1);
  const MessageContent& c = opened->content;
  BOOST_TEST(static_cast<uint32_t>(c.type) == ls::kV1Type);
  BOOST_TEST(c.content_hint == ls::kV1Hint);
  BOOST_TEST_REQUIRE(c.group_id.has_value());
  BOOST_TEST(hexs(*c.group_id) == ls::kV1GroupId);
  BOOST_TEST(hexs(c.content) == ls::kV1Content);
  check_sender(c.sender);
}

BOOST_AUTO_TEST_CASE(usmc_reencodes_to_libsignal_bytes) {
  for (std::string_view usmc : {ls::kV1Usmc, ls::kV2Usmc}) {
    auto c = MessageContent::parse(unhex(usmc));
    BOOST_TEST_REQUIRE(c.ok());
    const Bytes group = c->group_id.value_or(Bytes{});
    BOOST_TEST(hexs(MessageContent::serialize(c->type, c->sender.serialized, c->content,
                                              c->content_hint, group)) == usmc);
  }
}

BOOST_AUTO_TEST_CASE(v1_message_rejected_with_other_root_key_or_time) {
  const KeyPair alice = test::key_pair_from_hex(ls::kAlicePrivate);
  const Bytes m = unhex(ls::kV1Message);
  TrustPolicy wrong;
  wrong.roots = {test::public_key_from_hex(ls::kServerPublic)};
  CertificateValidator v_wrong(wrong);
  BOOST_TEST(open_sealed(m, alice, v_wrong, kNow).error() == Error::untrusted_certificate);
  CertificateValidator v(libsignal_policy());
  BOOST_TEST(open_sealed(m, alice, v, ls::kExpires + 1).error() == Error::untrusted_certificate);
  const KeyPair bob = test::key_pair_from_hex(ls::kBobPrivate);
  BOOST_TEST(open_sealed(m, bob, v, kNow).error() == Error::decryption_failed);
  const LocalAddress self{std::string(ls::kSenderUuid), std::nullopt, ls::kSenderDevice};
  BOOST_TEST(open_sealed(m, alice, v, kNow, self).error() == Error::self_send);
}

BOOST_AUTO_TEST_CASE(v2_received_message_opens_with_every_field) {
  const KeyPair alice = test::key_pair_from_hex(ls::kAlicePrivate);
  auto v2 = decrypt_v2(unhex(ls::kV2Received), alice);
  BOOST_TEST_REQUIRE(v2.ok());
  BOOST_TEST(hexs(v2->usmc) == ls::kV2Usmc);
  BOOST_TEST(verify_v2_sender(*v2, alice, test::public_key_from_hex(ls::kSenderIdentityPublic)));
  CertificateValidator v(libsignal_policy());
  auto opened = open_sealed(unhex(ls::kV2Received), alice, v, kNow);
  BOOST_TEST_REQUIRE(opened.ok());
  BOOST_TEST(opened->version == 2);
  const MessageContent& c = opened->content;
  BOOST_TEST(static_cast<uint32_t>(c.type) == ls::kV2Type);
  BOOST_TEST(c.content_hint == 0u);
  BOOST_TEST(!c.group_id.has_value());
  BOOST_TEST(hexs(c.content) == ls::kV2Content);
  check_sender(c.sender);
}

BOOST_AUTO_TEST_CASE(v2_single_recipient_sent_message_fans_out_like_libsignal) {
  const Bytes sent = unhex(ls::kV2Sent);
  auto m = SentMessage::parse(sent);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->version == kSentMessageVersion);
  BOOST_TEST_REQUIRE(m->recipients.size() == 1u);
  BOOST_TEST(m->recipients[0].devices.size() == 1u);
  BOOST_TEST(m->recipients[0].devices[0].id == 1u);
  BOOST_TEST(m->recipients[0].devices[0].registration_id == 0x1234u);
  BOOST_TEST(hexs(m->received_message(0)) == ls::kV2Received);
}

BOOST_AUTO_TEST_CASE(multi_recipient_sent_message_matches_libsignal) {
  const Bytes sent = unhex(ls::kMultiSent);
  BOOST_TEST(sent[1] == 6);  // Bob, Carol, Dave, Bob again, Eve, Frank
  auto m = SentMessage::parse(sent);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == std::size(ls::kMultiRecipients));
  for (std::size_t i = 0; i < m->recipients.size(); ++i) {
    const auto& got = m->recipients[i];
    const auto& want = ls::kMultiRecipients[i];
    BOOST_TEST_CONTEXT("recipient " << want.service_id) {
      BOOST_TEST(got.service_id.to_string() == want.service_id);
      BOOST_TEST_REQUIRE(got.devices.size() == want.devices.size());
      for (std::size_t d = 0; d < got.devices.size(); ++d) {
        BOOST_TEST(got.devices[d].id == want.devices[d].id);
        BOOST_TEST(got.devices[d].registration_id == want.devices[d].registration_id);
      }
      BOOST_TEST(hexs(m->received_message(i)) == want.received_hex);
    }
  }
  BOOST_TEST_REQUIRE(m->excluded.size() == std::size(ls::kMultiExcluded));
  for (std::size_t i = 0; i < m->excluded.size(); ++i) {
    BOOST_TEST(m->excluded[i].to_string() == ls::kMultiExcluded[i]);
  }
}

BOOST_AUTO_TEST_CASE(multi_recipient_messages_open_for_each_recipient) {
  const std::string_view keys[] = {ls::kBobPrivate, ls::kCarolPrivate, ls::kDavePrivate};
  CertificateValidator v(libsignal_policy());
  for (std::size_t i = 0; i < std::size(keys); ++i) {
    const KeyPair k = test::key_pair_from_hex(keys[i]);
    auto opened = open_sealed(unhex(ls::kMultiRecipients[i].received_hex), k, v, kNow);
    BOOST_TEST_REQUIRE(opened.ok(), i);
    BOOST_TEST(opened->version == 2);
    BOOST_TEST(hexs(opened->content.content) == ls::kV1Content);
    const KeyPair wrong = test::key_pair_from_hex(keys[(i + 1) % std::size(keys)]);
    BOOST_TEST(open_sealed(unhex(ls::kMultiRecipients[i].received_hex), wrong, v, kNow).error() ==
               Error::decryption_failed);
  }
}

BOOST_AUTO_TEST_CASE(veil_opens_what_it_would_fan_out_from_libsignal_bytes) {
  const Bytes sent = unhex(ls::kMultiSent);
  auto m = SentMessage::parse(sent);
  BOOST_TEST_REQUIRE(m.ok());
  const KeyPair dave = test::key_pair_from_hex(ls::kDavePrivate);
  CertificateValidator v(libsignal_policy());
  Bytes gathered;
  for (ByteView piece : m->received_pieces(2)) append(gathered, piece);
  BOOST_TEST(open_sealed(gathered, dave, v, kNow).ok());
}

BOOST_AUTO_TEST_SUITE_END()

// open_sealed for v1 and v2: certificate trust, expiry, revocation, signer ids, self-send and key binding.
#include <boost/test/unit_test.hpp>
#include <cctype>

#include "crypto/sealed_sender.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::kExpires;
using veil::test::kNow;
using veil::test::World;

namespace {

// Seals `usmc` from w.sender to w.recipient as v1 or v2.
Bytes seal(World& w, int version, ByteView usmc) {
  return version == 1 ? w.seal_v1(usmc) : w.received_v2(usmc, w.sender);
}

Error open_error(World& w, ByteView m, const TrustPolicy& policy, uint64_t now = kNow,
                 const std::optional<LocalAddress>& self = std::nullopt) {
  CertificateValidator v(policy);
  return open_sealed(m, w.recipient, v, now, self).error();
}

LocalAddress local(std::string_view uuid, std::optional<std::string> e164, uint32_t device) {
  return LocalAddress{std::string(uuid), std::move(e164), device};
}

constexpr std::string_view kOtherUuid = "00000000-1111-4222-8333-444444444444";

}  // namespace

BOOST_AUTO_TEST_SUITE(open_sealed_checks)

BOOST_AUTO_TEST_CASE(opens_v1_and_v2_with_all_fields) {
  for (int version : {1, 2}) {
    World w;
    const Bytes group = {0xAB, 0xCD};
    const Bytes usmc = MessageContent::serialize(ContentType::prekey, w.sender_cert.serialized,
                                                 as_bytes(test::kContent), 1, group);
    CertificateValidator v = w.validator();
    auto opened = open_sealed(seal(w, version, usmc), w.recipient, v, kNow);
    BOOST_TEST_REQUIRE(opened.ok(), version);
    BOOST_TEST(opened->version == version);
    const MessageContent& c = opened->content;
    BOOST_TEST(c.type == ContentType::prekey);
    BOOST_TEST(std::string(c.content.begin(), c.content.end()) == test::kContent);
    BOOST_TEST(c.content_hint == 1u);
    BOOST_TEST((c.group_id == std::optional<Bytes>(group)));
    BOOST_TEST(c.sender.sender_uuid == test::kSenderUuid);
    BOOST_TEST(c.sender.sender_e164.value_or("") == test::kSenderE164);
    BOOST_TEST(c.sender.sender_device == test::kSenderDevice);
    BOOST_TEST(c.sender.identity_key == w.sender.pub);
  }
}

BOOST_AUTO_TEST_CASE(wrong_trust_root_is_untrusted) {
  for (int version : {1, 2}) {
    World w, other(2);
    BOOST_TEST(open_error(w, seal(w, version, w.usmc()), other.policy()) ==
               Error::untrusted_certificate, version);
  }
}

BOOST_AUTO_TEST_CASE(valid_at_expires_and_untrusted_one_ms_later) {
  for (int version : {1, 2}) {
    World w;
    const Bytes m = seal(w, version, w.usmc());
    BOOST_TEST(open_error(w, m, w.policy(), kExpires) == Error::ok, version);
    BOOST_TEST(open_error(w, m, w.policy(), kExpires + 1) == Error::untrusted_certificate, version);
  }
}

BOOST_AUTO_TEST_CASE(revoked_server_key_is_untrusted) {
  for (int version : {1, 2}) {
    World w;
    w.server_cert =
        ServerCertificate::issue(kRevokedTestKeyId, w.server.pub, w.trust_root.priv, w.rng);
    const SenderCertificate cert = w.certificate(w.sender_fields());
    BOOST_TEST(open_error(w, seal(w, version, w.usmc(&cert)), w.policy()) ==
               Error::untrusted_certificate, version);
  }
}

BOOST_AUTO_TEST_CASE(signer_id_unknown_then_known) {
  for (int version : {1, 2}) {
    World w;
    auto cert = SenderCertificate::issue(w.sender_fields(), nullptr, 0x7357C357u, w.server.priv,
                                         w.rng);
    BOOST_TEST_REQUIRE(cert.ok());
    const Bytes m = seal(w, version, w.usmc(&*cert));
    BOOST_TEST(open_error(w, m, w.policy()) == Error::unknown_server_certificate, version);
    TrustPolicy known = w.policy();
    known.known_server_certificates.emplace(0x7357C357u, w.server_cert);
    BOOST_TEST(open_error(w, m, known) == Error::ok, version);
  }
}

BOOST_AUTO_TEST_CASE(self_send_rules) {
  for (int version : {1, 2}) {
    World w;
    const Bytes m = seal(w, version, w.usmc());
    const auto p = w.policy();
    const uint32_t dev = test::kSenderDevice;
    const std::string e164(test::kSenderE164);
    BOOST_TEST_CONTEXT("version " << version) {
      BOOST_TEST(open_error(w, m, p, kNow, local(test::kSenderUuid, std::nullopt, dev)) ==
                 Error::self_send);
      BOOST_TEST(open_error(w, m, p, kNow, local(test::kSenderUuid, std::nullopt, dev + 1)) ==
                 Error::ok);
      // UUIDs are case-insensitive: this device in upper case is still this device.
      std::string upper(test::kSenderUuid);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      BOOST_TEST(open_error(w, m, p, kNow, local(upper, std::nullopt, dev)) == Error::self_send);
      BOOST_TEST(open_error(w, m, p, kNow, local(kOtherUuid, e164, dev)) == Error::self_send);
      BOOST_TEST(open_error(w, m, p, kNow, local(kOtherUuid, e164, dev + 1)) == Error::ok);
      BOOST_TEST(open_error(w, m, p, kNow, local(kOtherUuid, "+15559999999", dev)) == Error::ok);
      BOOST_TEST(open_error(w, m, p, kNow, local(kOtherUuid, std::nullopt, dev)) == Error::ok);
      BOOST_TEST(open_error(w, m, p, kNow, std::nullopt) == Error::ok);
    }
  }
}

BOOST_AUTO_TEST_CASE(self_send_by_e164_needs_e164_in_the_certificate) {
  World w;
  auto fields = w.sender_fields();
  fields.sender_e164.reset();
  const SenderCertificate cert = w.certificate(fields);
  const Bytes m = w.seal_v1(w.usmc(&cert));
  BOOST_TEST(open_error(w, m, w.policy(), kNow,
                        local(kOtherUuid, std::string(test::kSenderE164), test::kSenderDevice)) ==
             Error::ok);
}

BOOST_AUTO_TEST_CASE(certificate_is_checked_before_self_send) {
  World w;
  const Bytes m = w.seal_v1();
  BOOST_TEST(open_error(w, m, w.policy(), kExpires + 1,
                        local(test::kSenderUuid, std::nullopt, test::kSenderDevice)) ==
             Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(v1_certificate_key_must_match_the_static_key) {
  World w;
  SeededRng rng(99);
  const KeyPair other = KeyPair::generate(rng);
  auto fields = w.sender_fields();
  fields.identity_key = other.pub;
  const SenderCertificate cert_b = w.certificate(fields);
  const Bytes m = w.seal_v1(w.usmc(&cert_b));  // static key A, certificate for B
  BOOST_TEST(decrypt_v1(m, w.recipient).ok());
  BOOST_TEST(open_error(w, m, w.policy()) == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(undecodable_usmc_is_malformed) {
  World w;
  BOOST_TEST(open_error(w, w.seal_v1(Bytes{0x01, 0x02}), w.policy()) == Error::malformed);
  BOOST_TEST(open_error(w, w.seal_v1(Bytes{}), w.policy()) == Error::malformed);
}

BOOST_AUTO_TEST_CASE(unknown_versions_and_empty_input) {
  World w;
  const Bytes m = w.seal_v1();
  BOOST_TEST(open_error(w, {}, w.policy()) == Error::truncated);
  for (int hi = 3; hi < 16; ++hi) {
    Bytes x = m;
    x[0] = static_cast<uint8_t>(hi << 4 | 1);
    BOOST_TEST(open_error(w, x, w.policy()) == Error::unknown_version, hi);
  }
}

BOOST_AUTO_TEST_SUITE_END()

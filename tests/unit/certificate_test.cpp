// Server and sender certificates: issue/parse round trips, parse rejections, and chain validation rules.
#include <boost/test/unit_test.hpp>
#include <cctype>

#include "crypto/certificate.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::kExpires;
using veil::test::kNow;
using veil::test::World;

namespace {

// A sender certificate whose inner fields are written by hand, signed by w.server.
Bytes hand_built_sender_cert(World& w, const Bytes& inner) {
  const Signature sig = xeddsa_sign(w.server.priv, inner, w.rng);
  Bytes outer;
  test::pb_bytes(outer, 1, inner);
  test::pb_bytes(outer, 2, sig);
  return outer;
}

Bytes inner_fields(World& w, uint32_t device, bool with_uuid = true, bool with_signer = true) {
  Bytes inner;
  test::pb_varint(inner, 2, device);
  test::pb_fixed64(inner, 3, kExpires);
  test::pb_bytes(inner, 4, w.sender.pub.serialize());
  if (with_signer) test::pb_bytes(inner, 5, w.server_cert.serialized);
  if (with_uuid) test::pb_bytes(inner, 6, as_bytes(test::kSenderUuid));
  return inner;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificate)

BOOST_AUTO_TEST_CASE(server_certificate_round_trips) {
  World w;
  auto parsed = ServerCertificate::parse(w.server_cert.serialized);
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->key_id == test::kServerKeyId);
  BOOST_TEST(parsed->key == w.server.pub);
  BOOST_TEST(parsed->certificate == w.server_cert.certificate);
  BOOST_TEST(parsed->signature.size() == kSignatureSize);
  BOOST_TEST(validate_server_certificate(*parsed, w.policy()));
}

BOOST_AUTO_TEST_CASE(sender_certificate_round_trips_with_uuid_string) {
  World w;
  auto c = SenderCertificate::parse(w.sender_cert.serialized);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(c->sender_uuid == test::kSenderUuid);
  BOOST_TEST(!c->uuid_as_bytes);
  BOOST_TEST(c->sender_e164.value_or("") == test::kSenderE164);
  BOOST_TEST(c->sender_device == test::kSenderDevice);
  BOOST_TEST(c->expires_ms == kExpires);
  BOOST_TEST(c->identity_key == w.sender.pub);
  BOOST_TEST_REQUIRE(c->signer.has_value());
  BOOST_TEST(c->signer->serialized == w.server_cert.serialized);
  BOOST_TEST(!c->signer_id.has_value());
  BOOST_TEST(c->serialized == w.sender_cert.serialized);
}

BOOST_AUTO_TEST_CASE(sender_certificate_with_uuid_bytes_and_signer_id) {
  World w;
  auto f = w.sender_fields();
  f.uuid_as_bytes = true;
  f.sender_e164.reset();
  auto c = SenderCertificate::issue(f, nullptr, 0x7357C357u, w.server.priv, w.rng);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(c->uuid_as_bytes);
  BOOST_TEST(c->sender_uuid == test::kSenderUuid);
  BOOST_TEST(!c->sender_e164.has_value());
  BOOST_TEST(!c->signer.has_value());
  BOOST_TEST(c->signer_id.value_or(0) == 0x7357C357u);
}

BOOST_AUTO_TEST_CASE(issue_rejects_device_0_and_128) {
  World w;
  for (uint32_t device : {0u, 128u, 1000u}) {
    auto f = w.sender_fields();
    f.sender_device = device;
    BOOST_TEST(SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng)
                   .error() == Error::invalid_device_id, device);
  }
  for (uint32_t device : {1u, 127u}) {
    auto f = w.sender_fields();
    f.sender_device = device;
    BOOST_TEST(SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng).ok(),
               device);
  }
}

BOOST_AUTO_TEST_CASE(issue_rejects_bad_uuid_and_missing_signer) {
  World w;
  auto f = w.sender_fields();
  f.sender_uuid = "not-a-uuid";
  BOOST_TEST(SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng)
                 .error() == Error::invalid_service_id);
  BOOST_TEST(SenderCertificate::issue(w.sender_fields(), nullptr, std::nullopt, w.server.priv, w.rng)
                 .error() == Error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(hand_built_certificate_parses) {
  World w;
  auto c = SenderCertificate::parse(hand_built_sender_cert(w, inner_fields(w, 9)));
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(c->sender_device == 9u);
  BOOST_TEST(validate_sender_certificate(*c, w.policy(), kNow) == Error::ok);
}

BOOST_AUTO_TEST_CASE(parse_rejects_bad_device_and_missing_fields) {
  World w;
  BOOST_TEST(SenderCertificate::parse(hand_built_sender_cert(w, inner_fields(w, 0))).error() ==
             Error::malformed);
  BOOST_TEST(SenderCertificate::parse(hand_built_sender_cert(w, inner_fields(w, 128))).error() ==
             Error::malformed);
  BOOST_TEST(SenderCertificate::parse(hand_built_sender_cert(w, inner_fields(w, 1, false))).error() ==
             Error::malformed);
  BOOST_TEST(
      SenderCertificate::parse(hand_built_sender_cert(w, inner_fields(w, 1, true, false))).error() ==
      Error::malformed);
  Bytes bad_uuid_bytes = inner_fields(w, 1, false);
  test::pb_bytes(bad_uuid_bytes, 7, Bytes(15, 1));
  BOOST_TEST(SenderCertificate::parse(hand_built_sender_cert(w, bad_uuid_bytes)).error() ==
             Error::malformed);
  Bytes no_signature;
  test::pb_bytes(no_signature, 1, inner_fields(w, 1));
  BOOST_TEST(SenderCertificate::parse(no_signature).error() == Error::malformed);
}

BOOST_AUTO_TEST_CASE(parse_rejects_garbage_and_truncation) {
  World w;
  BOOST_TEST(SenderCertificate::parse({}).error() == Error::malformed);
  BOOST_TEST(ServerCertificate::parse({}).error() == Error::malformed);
  BOOST_TEST(SenderCertificate::parse(Bytes{0xFF, 0xFF, 0xFF}).error() == Error::malformed);
  const ByteView s = w.sender_cert.serialized;
  for (std::size_t n = 0; n < s.size(); ++n) {
    BOOST_TEST(!SenderCertificate::parse(s.first(n)).ok(), n);
  }
  const ByteView v = w.server_cert.serialized;
  for (std::size_t n = 0; n < v.size(); ++n) BOOST_TEST(!ServerCertificate::parse(v.first(n)).ok(), n);
}

BOOST_AUTO_TEST_CASE(valid_until_exactly_expires) {
  World w;
  BOOST_TEST(validate_sender_certificate(w.sender_cert, w.policy(), kNow) == Error::ok);
  BOOST_TEST(validate_sender_certificate(w.sender_cert, w.policy(), kExpires) == Error::ok);
  BOOST_TEST(validate_sender_certificate(w.sender_cert, w.policy(), kExpires + 1) ==
             Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(wrong_trust_root_is_untrusted) {
  World w, other(2);
  BOOST_TEST(validate_sender_certificate(w.sender_cert, other.policy(), kNow) ==
             Error::untrusted_certificate);
  TrustPolicy none;
  BOOST_TEST(validate_sender_certificate(w.sender_cert, none, kNow) == Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(any_of_several_roots_suffices) {
  World w, other(2);
  TrustPolicy p;
  p.roots = {other.trust_root.pub, w.trust_root.pub, other.server.pub};
  BOOST_TEST(validate_sender_certificate(w.sender_cert, p, kNow) == Error::ok);
}

BOOST_AUTO_TEST_CASE(revoked_server_key_id_is_untrusted) {
  World w;
  w.server_cert = ServerCertificate::issue(kRevokedTestKeyId, w.server.pub, w.trust_root.priv, w.rng);
  const SenderCertificate c = w.certificate(w.sender_fields());
  BOOST_TEST(!validate_server_certificate(w.server_cert, w.policy()));
  BOOST_TEST(validate_sender_certificate(c, w.policy(), kNow) == Error::untrusted_certificate);
  TrustPolicy lenient = w.policy();
  lenient.revoked_key_ids.clear();
  BOOST_TEST(validate_sender_certificate(c, lenient, kNow) == Error::ok);
}

BOOST_AUTO_TEST_CASE(signer_id_must_be_known) {
  World w;
  auto c = SenderCertificate::issue(w.sender_fields(), nullptr, test::kServerKeyId, w.server.priv,
                                    w.rng);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(validate_sender_certificate(*c, w.policy(), kNow) == Error::unknown_server_certificate);
  TrustPolicy p = w.policy();
  p.known_server_certificates.emplace(test::kServerKeyId, w.server_cert);
  BOOST_TEST(validate_sender_certificate(*c, p, kNow) == Error::ok);
  BOOST_TEST(validate_sender_certificate(*c, p, kExpires + 1) == Error::untrusted_certificate);
  TrustPolicy other_id = w.policy();
  other_id.known_server_certificates.emplace(test::kServerKeyId + 1, w.server_cert);
  BOOST_TEST(validate_sender_certificate(*c, other_id, kNow) == Error::unknown_server_certificate);
}

BOOST_AUTO_TEST_CASE(known_server_certificate_still_needs_the_root) {
  World w, other(2);
  auto c = SenderCertificate::issue(w.sender_fields(), nullptr, test::kServerKeyId, w.server.priv,
                                    w.rng);
  BOOST_TEST_REQUIRE(c.ok());
  TrustPolicy p = other.policy();
  p.known_server_certificates.emplace(test::kServerKeyId, w.server_cert);
  BOOST_TEST(validate_sender_certificate(*c, p, kNow) == Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(tampered_signatures_are_untrusted) {
  World w;
  SenderCertificate c = w.sender_cert;
  c.signature[5] ^= 1;
  BOOST_TEST(validate_sender_certificate(c, w.policy(), kNow) == Error::untrusted_certificate);
  c = w.sender_cert;
  c.certificate.back() ^= 1;
  BOOST_TEST(validate_sender_certificate(c, w.policy(), kNow) == Error::untrusted_certificate);
  c = w.sender_cert;
  c.signer->signature[0] ^= 1;
  BOOST_TEST(validate_sender_certificate(c, w.policy(), kNow) == Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(certificate_signed_by_other_key_is_untrusted) {
  World w;
  auto c = SenderCertificate::issue(w.sender_fields(), &w.server_cert, std::nullopt, w.sender.priv,
                                    w.rng);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(validate_sender_certificate(*c, w.policy(), kNow) == Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(validator_caches_but_still_checks_expiry) {
  World w;
  CertificateValidator v = w.validator();
  BOOST_TEST(v.validate(w.sender_cert, kNow) == Error::ok);
  BOOST_TEST(v.validate(w.sender_cert, kNow) == Error::ok);
  BOOST_TEST(v.validate(w.sender_cert, kExpires) == Error::ok);
  BOOST_TEST(v.validate(w.sender_cert, kExpires + 1) == Error::untrusted_certificate);
  World other(2);
  BOOST_TEST(v.validate(other.sender_cert, kNow) == Error::untrusted_certificate);
  BOOST_TEST(v.validate(other.sender_cert, kNow) == Error::untrusted_certificate);
}

BOOST_AUTO_TEST_CASE(validator_with_capacity_one_keeps_validating) {
  World w, w3(3);
  TrustPolicy p = w.policy();
  p.roots.push_back(w3.trust_root.pub);
  CertificateValidator v(p, 1);
  for (int round = 0; round < 3; ++round) {
    BOOST_TEST(v.validate(w.sender_cert, kNow) == Error::ok);
    BOOST_TEST(v.validate(w3.sender_cert, kNow) == Error::ok);
  }
}

BOOST_AUTO_TEST_CASE(strings_that_are_not_utf8_are_refused_at_issue_and_at_parse) {
  World w;
  SenderCertificate::Fields f;
  f.sender_uuid = test::kSenderUuid;
  f.sender_e164 = std::string("+1555\xFF\xFE");
  f.sender_device = 1;
  f.expires_ms = kExpires;
  f.identity_key = w.sender.pub;
  auto issued = SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng);
  BOOST_REQUIRE(!issued);
  BOOST_TEST(error_name(issued.error()) == "invalid_utf8");
  // Written by hand (as another issuer could): refused at parse, as libsignal's decoder does.
  Bytes bad_e164 = inner_fields(w, 1);
  test::pb_bytes(bad_e164, 1, as_bytes(std::string("+1555\xFF\xFE")));
  auto parsed = SenderCertificate::parse(hand_built_sender_cert(w, bad_e164));
  BOOST_REQUIRE(!parsed);
  BOOST_TEST(error_name(parsed.error()) == "malformed");
  Bytes bad_uuid = inner_fields(w, 1, false);
  test::pb_bytes(bad_uuid, 6, as_bytes(std::string("\xC0\xAF")));
  BOOST_TEST(!SenderCertificate::parse(hand_built_sender_cert(w, bad_uuid)));
  // Well-formed non-ASCII text is fine.
  f.sender_e164 = std::string("+\xD9\xA1\xD9\xA2");  // Arabic-Indic digits
  BOOST_TEST(SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng).ok());
}

BOOST_AUTO_TEST_CASE(an_upper_case_sender_uuid_is_issued_in_canonical_form) {
  World w;
  SenderCertificate::Fields f;
  std::string upper(test::kSenderUuid);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  f.sender_uuid = upper;
  f.sender_device = 1;
  f.expires_ms = kExpires;
  f.identity_key = w.sender.pub;
  auto issued = SenderCertificate::issue(f, &w.server_cert, std::nullopt, w.server.priv, w.rng);
  BOOST_REQUIRE(issued.ok());
  BOOST_TEST(issued->sender_uuid == std::string(test::kSenderUuid));
}

BOOST_AUTO_TEST_SUITE_END()

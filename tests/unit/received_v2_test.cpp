// v2 ReceivedMessage: decrypt_v2 and open_sealed on tampered regions, truncations, versions and key mismatches.
#include <boost/test/unit_test.hpp>

#include "crypto/sealed_sender.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::kNow;
using veil::test::World;

namespace {

// 0x22 | C 32 (1..32) | AT 16 (33..48) | E 32 (49..80) | ciphertext (81..)
constexpr std::size_t kC = 1, kAt = 33, kE = 49, kCt = 81;

Error open_error(World& w, ByteView m) {
  CertificateValidator v = w.validator();
  return open_sealed(m, w.recipient, v, kNow).error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(received_v2)

BOOST_AUTO_TEST_CASE(decrypt_returns_usmc_and_header_fields) {
  World w;
  const Bytes usmc = w.usmc();
  const Bytes m = w.received_v2(usmc, w.sender);
  BOOST_TEST(m.size() == usmc.size() + 97);
  BOOST_TEST(m[0] == kReceivedMessageVersion);
  auto opened = decrypt_v2(m, w.recipient);
  BOOST_TEST_REQUIRE(opened.ok());
  BOOST_TEST(opened->usmc == usmc);
  BOOST_TEST(std::equal(opened->c.begin(), opened->c.end(), m.begin() + kC));
  BOOST_TEST(std::equal(opened->at.begin(), opened->at.end(), m.begin() + kAt));
  BOOST_TEST(std::equal(opened->ephemeral.raw().begin(), opened->ephemeral.raw().end(), m.begin() + kE));
  BOOST_TEST(verify_v2_sender(*opened, w.recipient, w.sender.pub));
  BOOST_TEST(open_error(w, m) == Error::ok);
}

BOOST_AUTO_TEST_CASE(only_the_high_nibble_of_the_version_counts) {
  World w;
  const Bytes m = w.received_v2();
  for (uint8_t v : {uint8_t{0x20}, uint8_t{0x23}, uint8_t{0x2f}}) {
    Bytes x = m;
    x[0] = v;
    BOOST_TEST(decrypt_v2(x, w.recipient).ok(), int{v});
    BOOST_TEST(open_error(w, x) == Error::ok, int{v});
  }
  for (uint8_t v : {uint8_t{0x12}, uint8_t{0x32}, uint8_t{0xf2}}) {
    Bytes x = m;
    x[0] = v;
    BOOST_TEST(decrypt_v2(x, w.recipient).error() == Error::unknown_version, int{v});
  }
  Bytes x = m;
  x[0] = 0x32;
  BOOST_TEST(open_error(w, x) == Error::unknown_version);
}

BOOST_AUTO_TEST_CASE(tampered_c_e_or_ciphertext_fails_to_decrypt) {
  World w;
  const Bytes m = w.received_v2();
  for (std::size_t i = kC; i < kAt; ++i) {
    BOOST_TEST(decrypt_v2(test::flip(m, i), w.recipient).error() == Error::decryption_failed, i);
  }
  for (std::size_t i = kE; i < m.size(); ++i) {
    BOOST_TEST(decrypt_v2(test::flip(m, i), w.recipient).error() == Error::decryption_failed, i);
  }
}

BOOST_AUTO_TEST_CASE(tampered_at_fails_the_sender_check) {
  World w;
  const Bytes m = w.received_v2();
  for (std::size_t i = kAt; i < kE; ++i) {
    const Bytes x = test::flip(m, i, 0x10);
    auto opened = decrypt_v2(x, w.recipient);
    BOOST_TEST_REQUIRE(opened.ok(), i);
    BOOST_TEST(!verify_v2_sender(*opened, w.recipient, w.sender.pub), i);
  }
}

BOOST_AUTO_TEST_CASE(every_tampered_byte_fails_open_sealed) {
  World w;
  const Bytes m = w.received_v2();
  for (std::size_t i = kC; i < m.size(); ++i) {
    BOOST_TEST(open_error(w, test::flip(m, i)) == Error::decryption_failed, i);
  }
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_error) {
  World w;
  const Bytes m = w.received_v2();
  CertificateValidator v = w.validator();
  for (std::size_t n = 0; n < m.size(); ++n) {
    const ByteView cut = ByteView(m).first(n);
    auto d = decrypt_v2(cut, w.recipient);
    BOOST_TEST(!d.ok(), n);
    if (n > 0 && n < kCt + 16) BOOST_TEST(d.error() == Error::truncated, n);
    BOOST_TEST(!open_sealed(cut, w.recipient, v, kNow).ok(), n);
  }
}

BOOST_AUTO_TEST_CASE(wrong_recipient_key_fails) {
  World w, other(2);
  const Bytes m = w.received_v2();
  BOOST_TEST(decrypt_v2(m, other.recipient).error() == Error::decryption_failed);
  CertificateValidator v = w.validator();
  BOOST_TEST(open_sealed(m, other.recipient, v, kNow).error() == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(certificate_key_other_than_the_sealing_key_fails) {
  World w;
  SeededRng rng(99);
  const KeyPair other = KeyPair::generate(rng);
  auto fields = w.sender_fields();
  fields.identity_key = other.pub;  // a valid certificate, but for key B
  const SenderCertificate cert_b = w.certificate(fields);
  const Bytes m = w.received_v2(w.usmc(&cert_b), w.sender);  // sealed with key A
  BOOST_TEST(decrypt_v2(m, w.recipient).ok());
  BOOST_TEST(open_error(w, m) == Error::decryption_failed);
  // Sealed with key B itself, the same certificate opens.
  BOOST_TEST(open_error(w, w.received_v2(w.usmc(&cert_b), other)) == Error::ok);
}

BOOST_AUTO_TEST_CASE(undecodable_usmc_is_malformed) {
  World w;
  BOOST_TEST(open_error(w, w.received_v2(Bytes{0x08, 0x02, 0x1a, 0x00}, w.sender)) ==
             Error::malformed);
}

BOOST_AUTO_TEST_CASE(low_order_ephemeral_key_fails) {
  World w;
  Bytes m = w.received_v2();
  std::fill(m.begin() + kE, m.begin() + kCt, uint8_t{0});
  BOOST_TEST(decrypt_v2(m, w.recipient).error() == Error::decryption_failed);
}

BOOST_AUTO_TEST_SUITE_END()

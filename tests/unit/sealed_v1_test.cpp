// Sealed sender v1: layout, round trip, and rejection of every tampered region and every truncation.
#include <boost/test/unit_test.hpp>

#include "crypto/sealed_sender.h"
#include "crypto/sealed_sender_v1.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::World;

namespace {

// Offsets of the regions in 0x11 | 0a 21 E33 | 12 2b static43 | 1a len body(+mac10).
struct Layout {
  std::size_t e = 3;          // E's 0x05 type byte; raw key at 4..35
  std::size_t stat = 38;      // 43 bytes
  std::size_t body = 0;       // encrypted message; its last 10 bytes are the MAC
  std::size_t body_len = 0;
};

Layout layout_of(ByteView m) {
  BOOST_TEST_REQUIRE(m.size() > 84u);
  BOOST_TEST_REQUIRE(m[1] == 0x0a);
  BOOST_TEST_REQUIRE(m[2] == 0x21);
  BOOST_TEST_REQUIRE(m[36] == 0x12);
  BOOST_TEST_REQUIRE(m[37] == 0x2b);
  BOOST_TEST_REQUIRE(m[81] == 0x1a);
  Layout l;
  std::size_t i = 82;
  for (int shift = 0;; shift += 7) {
    l.body_len |= static_cast<std::size_t>(m[i] & 0x7F) << shift;
    if ((m[i++] & 0x80) == 0) break;
  }
  l.body = i;
  BOOST_TEST_REQUIRE(l.body + l.body_len == m.size());
  return l;
}

Error v1_error(ByteView m, const KeyPair& recipient) { return decrypt_v1(m, recipient).error(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(sealed_v1)

BOOST_AUTO_TEST_CASE(round_trip_returns_usmc_and_sender_key) {
  World w;
  const Bytes usmc = w.usmc();
  const Bytes m = w.seal_v1(usmc);
  auto opened = decrypt_v1(m, w.recipient);
  BOOST_TEST_REQUIRE(opened.ok());
  BOOST_TEST(opened->usmc == usmc);
  BOOST_TEST(opened->sender_static == w.sender.pub);
}

BOOST_AUTO_TEST_CASE(layout_matches_libsignal) {
  World w;
  const Bytes usmc(2081, 0x61);
  const Bytes m = w.seal_v1(usmc);
  BOOST_TEST(m[0] == kSealedSenderV1Version);
  BOOST_TEST(m.size() == 2175u);
  const Layout l = layout_of(m);
  BOOST_TEST(m[l.e] == kDjbKeyType);
  BOOST_TEST(l.body_len == usmc.size() + 10);
}

BOOST_AUTO_TEST_CASE(same_seed_same_bytes) {
  World a, b;
  BOOST_TEST(a.seal_v1() == b.seal_v1());
  BOOST_TEST(a.seal_v1() != a.seal_v1());
}

BOOST_AUTO_TEST_CASE(low_nibble_of_version_is_ignored) {
  World w;
  const Bytes m = w.seal_v1();
  for (uint8_t v : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0x10}, uint8_t{0x1f}}) {
    Bytes x = m;
    x[0] = v;
    BOOST_TEST(decrypt_v1(x, w.recipient).ok(), int{v});
  }
}

BOOST_AUTO_TEST_CASE(other_high_nibbles_are_unknown_versions) {
  World w;
  const Bytes m = w.seal_v1();
  for (uint8_t v : {uint8_t{0x21}, uint8_t{0x22}, uint8_t{0x31}, uint8_t{0xf1}}) {
    Bytes x = m;
    x[0] = v;
    BOOST_TEST(v1_error(x, w.recipient) == Error::unknown_version, int{v});
  }
}

BOOST_AUTO_TEST_CASE(version_nibble_2_goes_to_v2_and_fails_there) {
  World w;
  Bytes m = w.seal_v1();
  m[0] = 0x21;
  CertificateValidator v = w.validator();
  BOOST_TEST(open_sealed(m, w.recipient, v, test::kNow).error() == Error::decryption_failed);
  m[0] = 0x31;
  BOOST_TEST(open_sealed(m, w.recipient, v, test::kNow).error() == Error::unknown_version);
}

BOOST_AUTO_TEST_CASE(tampered_ephemeral_key_fails) {
  World w;
  const Bytes m = w.seal_v1();
  const Layout l = layout_of(m);
  BOOST_TEST(v1_error(test::flip(m, l.e, 0x02), w.recipient) == Error::malformed);
  for (std::size_t i = l.e + 1; i < l.e + 33; ++i) {
    BOOST_TEST(v1_error(test::flip(m, i), w.recipient) == Error::decryption_failed, i);
  }
}

BOOST_AUTO_TEST_CASE(tampered_encrypted_static_fails) {
  World w;
  const Bytes m = w.seal_v1();
  const Layout l = layout_of(m);
  for (std::size_t i = l.stat; i < l.stat + 43; ++i) {
    BOOST_TEST(v1_error(test::flip(m, i), w.recipient) == Error::decryption_failed, i);
    BOOST_TEST(v1_error(test::flip(m, i, 0x80), w.recipient) == Error::decryption_failed, i);
  }
}

BOOST_AUTO_TEST_CASE(tampered_message_body_and_each_mac_byte_fail) {
  World w;
  const Bytes m = w.seal_v1();
  const Layout l = layout_of(m);
  for (std::size_t i = l.body; i < m.size(); ++i) {
    BOOST_TEST(v1_error(test::flip(m, i), w.recipient) == Error::decryption_failed, i);
  }
  for (std::size_t i = m.size() - 10; i < m.size(); ++i) {
    BOOST_TEST(v1_error(test::flip(m, i, 0x80), w.recipient) == Error::decryption_failed, i);
  }
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_error) {
  World w;
  const Bytes m = w.seal_v1();
  CertificateValidator v = w.validator();
  for (std::size_t n = 0; n < m.size(); ++n) {
    const ByteView cut = ByteView(m).first(n);
    BOOST_TEST(!decrypt_v1(cut, w.recipient).ok(), n);
    BOOST_TEST(!open_sealed(cut, w.recipient, v, test::kNow).ok(), n);
  }
  BOOST_TEST(v1_error({}, w.recipient) == Error::truncated);
}

BOOST_AUTO_TEST_CASE(wrong_recipient_key_fails) {
  World w, other(2);
  BOOST_TEST(v1_error(w.seal_v1(), other.recipient) == Error::decryption_failed);
  BOOST_TEST(v1_error(w.seal_v1(), w.sender) == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(hand_built_fields_of_wrong_shape) {
  World w;
  const Bytes m = w.seal_v1();
  const Layout l = layout_of(m);
  const ByteView e = ByteView(m).subspan(l.e, 33);
  const ByteView stat = ByteView(m).subspan(l.stat, 43);
  const ByteView body = ByteView(m).subspan(l.body);
  auto build = [](std::optional<ByteView> e1, std::optional<ByteView> s2, std::optional<ByteView> b3) {
    Bytes x = {0x11};
    if (e1) test::pb_bytes(x, 1, *e1);
    if (s2) test::pb_bytes(x, 2, *s2);
    if (b3) test::pb_bytes(x, 3, *b3);
    return x;
  };
  BOOST_TEST(build(e, stat, body) == m);
  BOOST_TEST(v1_error(build(std::nullopt, stat, body), w.recipient) == Error::malformed);
  BOOST_TEST(v1_error(build(e, std::nullopt, body), w.recipient) == Error::malformed);
  BOOST_TEST(v1_error(build(e, stat, std::nullopt), w.recipient) == Error::malformed);
  BOOST_TEST(v1_error(build(e.subspan(1), stat, body), w.recipient) == Error::malformed);
  BOOST_TEST(v1_error(build(e, stat.first(42), body), w.recipient) == Error::decryption_failed);
  BOOST_TEST(v1_error(build(e, stat, body.first(9)), w.recipient) == Error::decryption_failed);
  BOOST_TEST(v1_error(build(e, stat, body.first(10)), w.recipient) == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(low_order_keys_are_rejected) {
  World w;
  const PublicKey zero = PublicKey::from_raw(Bytes(32, 0));
  BOOST_TEST(seal_v1(w.usmc(), w.sender, zero, w.rng).error() == Error::invalid_key_agreement);
  Bytes m = w.seal_v1();
  std::fill(m.begin() + 4, m.begin() + 36, uint8_t{0});
  BOOST_TEST(v1_error(m, w.recipient) == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(empty_usmc_round_trips) {
  World w;
  auto opened = decrypt_v1(w.seal_v1(Bytes{}), w.recipient);
  BOOST_TEST_REQUIRE(opened.ok());
  BOOST_TEST(opened->usmc.empty());
}

BOOST_AUTO_TEST_SUITE_END()

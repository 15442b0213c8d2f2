// Ed25519 identity keys against RFC 8032 §7.1 (tests 1 and 2), and their refusals.
#include <boost/test/unit_test.hpp>

#include "base/rng.h"
#include "crypto/identity.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;

namespace {
struct Vector {
  std::string_view seed, pub, message, signature;
};
constexpr Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

IdentitySignature sig_from_hex(std::string_view hex) {
  IdentitySignature s{};
  const Bytes b = unhex(hex);
  std::copy(b.begin(), b.end(), s.begin());
  return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(identity)

BOOST_AUTO_TEST_CASE(rfc8032_keys_and_signatures) {
  for (const Vector& v : kRfc8032) {
    auto key = IdentityKey::from_seed(unhex(v.seed));
    BOOST_REQUIRE(key);
    BOOST_TEST(hexs(key->public_key().raw()) == v.pub);
    BOOST_TEST(hexs(key->sign(unhex(v.message))) == v.signature);
    BOOST_TEST(key->public_key().verify(unhex(v.message), sig_from_hex(v.signature)));
  }
}

BOOST_AUTO_TEST_CASE(any_changed_bit_fails_verification) {
  const Vector& v = kRfc8032[1];
  const auto pub = IdentityPublicKey::parse(unhex(v.pub));
  BOOST_REQUIRE(pub);
  const IdentitySignature good = sig_from_hex(v.signature);
  for (std::size_t i = 0; i < good.size(); ++i) {
    IdentitySignature bad = good;
    bad[i] ^= 0x01;
    BOOST_TEST(!pub->verify(unhex(v.message), bad), "signature byte " << i);
  }
  BOOST_TEST(!pub->verify(unhex("73"), good));
  BOOST_TEST(!pub->verify(unhex(""), good));
  const auto other = IdentityPublicKey::parse(unhex(kRfc8032[0].pub));
  BOOST_TEST(!other->verify(unhex(v.message), good));
}

BOOST_AUTO_TEST_CASE(small_order_key_never_verifies) {
  // The identity point (y = 1): every signature with R = identity and S = 0 "verifies" under a
  // cofactorless check that allows it; libsodium refuses small-order keys.
  Bytes identity_point(32, 0);
  identity_point[0] = 1;
  const auto pub = IdentityPublicKey::parse(identity_point);
  BOOST_REQUIRE(pub);
  IdentitySignature sig{};
  sig[0] = 1;
  BOOST_TEST(!pub->verify(unhex("00"), sig));
}

BOOST_AUTO_TEST_CASE(wrong_sizes_are_invalid_key) {
  BOOST_TEST(IdentityPublicKey::parse(Bytes(31, 1)).error() == Error::invalid_key);
  BOOST_TEST(IdentityPublicKey::parse(Bytes(33, 1)).error() == Error::invalid_key);
  BOOST_TEST(IdentityKey::from_seed(Bytes(31, 1)).error() == Error::invalid_key);
  BOOST_TEST(IdentityKey::from_seed(Bytes{}).error() == Error::invalid_key);
}

BOOST_AUTO_TEST_CASE(generated_keys_differ_and_round_trip_through_their_seed) {
  SystemRng rng;
  const IdentityKey a = IdentityKey::generate(rng);
  const IdentityKey b = IdentityKey::generate(rng);
  BOOST_TEST(!(a.public_key() == b.public_key()));
  const auto again = IdentityKey::from_seed(a.seed());
  BOOST_REQUIRE(again);
  BOOST_TEST(hexs(again->public_key().raw()) == hexs(a.public_key().raw()));
  const Bytes msg = unhex("0102");
  BOOST_TEST(a.public_key().verify(msg, again->sign(msg)));
}

BOOST_AUTO_TEST_SUITE_END()

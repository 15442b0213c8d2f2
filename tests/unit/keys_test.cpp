// X25519 against RFC 7748 section 6.1, and the parsing rules of Signal's key serialization.
#include <boost/test/unit_test.hpp>

#include "crypto/keys.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;

namespace {
constexpr std::string_view kAlicePriv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPriv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kShared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
}  // namespace

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(x25519_rfc7748_public_keys) {
  BOOST_TEST(hexs(x25519_base(unhex(kAlicePriv)).raw()) == kAlicePub);
  BOOST_TEST(hexs(test::key_pair_from_hex(kBobPriv).pub.raw()) == kBobPub);
}

BOOST_AUTO_TEST_CASE(x25519_rfc7748_shared_secret_both_ways) {
  const KeyPair alice = test::key_pair_from_hex(kAlicePriv);
  const KeyPair bob = test::key_pair_from_hex(kBobPriv);
  std::array<uint8_t, 32> ab{}, ba{};
  BOOST_TEST(alice.priv.agree(bob.pub, ab) == Error::ok);
  BOOST_TEST(x25519(unhex(kBobPriv), alice.pub, ba) == Error::ok);
  BOOST_TEST(hexs(ab) == kShared);
  BOOST_TEST(hexs(ba) == kShared);
}

BOOST_AUTO_TEST_CASE(low_order_peer_gives_invalid_key_agreement) {
  const KeyPair alice = test::key_pair_from_hex(kAlicePriv);
  std::array<uint8_t, 32> out{};
  for (std::string_view low : {
           "0000000000000000000000000000000000000000000000000000000000000000",
           "0100000000000000000000000000000000000000000000000000000000000000",
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"}) {
    out.fill(0xAA);
    BOOST_TEST(alice.priv.agree(PublicKey::from_raw(unhex(low)), out) ==
               Error::invalid_key_agreement, low);
    BOOST_TEST(hexs(out) == std::string(64, '0'));
  }
}

BOOST_AUTO_TEST_CASE(public_key_parse_accepts_only_33_bytes_with_type_5) {
  const Bytes good = unhex(std::string("05") + std::string(kAlicePub));
  auto k = PublicKey::parse(good);
  BOOST_TEST_REQUIRE(k.ok());
  BOOST_TEST(hexs(k->raw()) == kAlicePub);
  BOOST_TEST(hexs(k->serialize()) == hexs(good));
  BOOST_TEST(PublicKey::parse(ByteView(good).first(32)).error() == Error::invalid_key);
  BOOST_TEST(PublicKey::parse(unhex(kAlicePub)).error() == Error::invalid_key);
  Bytes longer = good;
  longer.push_back(0);
  BOOST_TEST(PublicKey::parse(longer).error() == Error::invalid_key);
  BOOST_TEST(PublicKey::parse(test::flip(good, 0, 0x03)).error() == Error::invalid_key);
  BOOST_TEST(PublicKey::parse({}).error() == Error::invalid_key);
}

BOOST_AUTO_TEST_CASE(private_key_parse_clamps_and_checks_length) {
  auto k = PrivateKey::parse(Bytes(32, 0xFF));
  BOOST_TEST_REQUIRE(k.ok());
  BOOST_TEST(k->raw()[0] == 0xF8);
  BOOST_TEST(k->raw()[31] == 0x7F);
  BOOST_TEST(PrivateKey::parse(Bytes(31, 1)).error() == Error::invalid_key);
  BOOST_TEST(PrivateKey::parse(Bytes(33, 1)).error() == Error::invalid_key);
}

BOOST_AUTO_TEST_CASE(seeded_generation_is_deterministic) {
  SeededRng a(7), b(7), c(8);
  const KeyPair ka = KeyPair::generate(a), kb = KeyPair::generate(b), kc = KeyPair::generate(c);
  BOOST_TEST(ka.pub == kb.pub);
  BOOST_TEST(!(ka.pub == kc.pub));
  BOOST_TEST(ka.pub == x25519_base(ka.priv.raw()));
  BOOST_TEST((ka.priv.raw()[0] & 7) == 0);
  BOOST_TEST((ka.priv.raw()[31] & 0xC0) == 0x40);
}

BOOST_AUTO_TEST_SUITE_END()

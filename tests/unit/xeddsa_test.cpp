// XEd25519 signatures: round trip, a libsignal-made signature, and rejection of every malformed variant.
#include <boost/test/unit_test.hpp>

#include "crypto/xeddsa.h"
#include "test_support.h"
#include "vectors/libsignal_vectors.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::unhex;
namespace ls = veil::test::libsignal;

BOOST_AUTO_TEST_SUITE(xeddsa)

BOOST_AUTO_TEST_CASE(sign_then_verify_round_trips) {
  SeededRng rng(11);
  const KeyPair k = KeyPair::generate(rng);
  for (std::size_t len : {0, 1, 64, 300}) {
    const Bytes msg(len, 0x3C);
    const Signature sig = xeddsa_sign(k.priv, msg, rng);
    BOOST_TEST(xeddsa_verify(k.pub, msg, sig), "length " << len);
  }
}

BOOST_AUTO_TEST_CASE(signing_uses_the_given_rng) {
  SeededRng a(5), b(5), c(6);
  const KeyPair k = KeyPair::generate(a);
  (void)KeyPair::generate(b);
  const Bytes msg = {1, 2, 3};
  const Signature sa = xeddsa_sign(k.priv, msg, a);
  BOOST_TEST((sa == xeddsa_sign(k.priv, msg, b)));
  BOOST_TEST(!(sa == xeddsa_sign(k.priv, msg, c)));
}

BOOST_AUTO_TEST_CASE(libsignal_signature_verifies) {
  BOOST_TEST(xeddsa_verify(test::public_key_from_hex(ls::kSenderIdentityPublic),
                           unhex(ls::kSignedMessage), unhex(ls::kSignature)));
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_message_fails) {
  const PublicKey key = test::public_key_from_hex(ls::kSenderIdentityPublic);
  const Bytes msg = unhex(ls::kSignedMessage), sig = unhex(ls::kSignature);
  for (std::size_t i = 0; i < msg.size(); ++i) {
    BOOST_TEST(!xeddsa_verify(key, test::flip(msg, i, 0x04), sig), "byte " << i);
  }
  Bytes longer = msg;
  longer.push_back(0);
  BOOST_TEST(!xeddsa_verify(key, longer, sig));
  BOOST_TEST(!xeddsa_verify(key, ByteView(msg).first(msg.size() - 1), sig));
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_signature_fails) {
  const PublicKey key = test::public_key_from_hex(ls::kSenderIdentityPublic);
  const Bytes msg = unhex(ls::kSignedMessage), sig = unhex(ls::kSignature);
  for (std::size_t i = 0; i < sig.size(); ++i) {
    BOOST_TEST(!xeddsa_verify(key, msg, test::flip(sig, i, 0x01)), "byte " << i);
  }
}

BOOST_AUTO_TEST_CASE(wrong_signature_length_fails) {
  const PublicKey key = test::public_key_from_hex(ls::kSenderIdentityPublic);
  const Bytes msg = unhex(ls::kSignedMessage), sig = unhex(ls::kSignature);
  Bytes longer = sig;
  longer.push_back(0);
  BOOST_TEST(!xeddsa_verify(key, msg, longer));
  BOOST_TEST(!xeddsa_verify(key, msg, ByteView(sig).first(63)));
  BOOST_TEST(!xeddsa_verify(key, msg, {}));
}

BOOST_AUTO_TEST_CASE(high_bits_of_s_set_fail) {
  // Byte 63 carries the Edwards sign bit in 0x80; bits 0x60 must be zero (s < 2^253).
  const PublicKey key = test::public_key_from_hex(ls::kSenderIdentityPublic);
  const Bytes msg = unhex(ls::kSignedMessage), sig = unhex(ls::kSignature);
  BOOST_TEST((sig[63] & 0x60) == 0);
  BOOST_TEST(!xeddsa_verify(key, msg, test::flip(sig, 63, 0x20)));
  BOOST_TEST(!xeddsa_verify(key, msg, test::flip(sig, 63, 0x40)));
  BOOST_TEST(!xeddsa_verify(key, msg, test::flip(sig, 63, 0x80)));
}

BOOST_AUTO_TEST_CASE(other_key_fails) {
  SeededRng rng(12);
  const KeyPair k = KeyPair::generate(rng), other = KeyPair::generate(rng);
  const Bytes msg = {9, 9, 9};
  BOOST_TEST(!xeddsa_verify(other.pub, msg, xeddsa_sign(k.priv, msg, rng)));
}

BOOST_AUTO_TEST_SUITE_END()

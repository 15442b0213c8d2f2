// AES-256-GCM-SIV against RFC 8452 Appendix C.2, AES-256-CTR against NIST SP 800-38A F.5.5/F.5.6 and
// ChaCha20-Poly1305 against RFC 8439 §2.8.2.
#include <boost/test/unit_test.hpp>

#include "crypto/cipher.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;

namespace {

struct GcmSivVector {
  const char* key;
  const char* nonce;
  const char* aad;
  const char* plaintext;
  const char* sealed;  // ciphertext || tag
};

// RFC 8452 Appendix C.2 (AEAD_AES_256_GCM_SIV); also checked against libsignal's Aes256GcmSiv.
const GcmSivVector kGcmSiv[] = {
    {"0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
     "", "", "07f5f4169bbf55a8400cd47ea6fd400f"},
    {"0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
     "", "0100000000000000", "c2ef328e5c71c83b843122130f7364b761e0b97427e3df28"},
    {"0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
     "", "0100000000000000000000000000000002000000000000000000000000000000",
     "4a6a9db4c8c6549201b9edb53006cba821ec9cf850948a7c86c68ac7539d027f"
     "e819e63abcd020b006a976397632eb5d"},
    {"0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
     "01", "0200000000000000", "1de22967237a813291213f267e3b452f02d01ae33e4ec854"},
    {"0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
     "010000000000000000000000", "02000000", "22b3f4cd1835e517741dfddccfa07fa4661b74cf"},
    {"bae8e37fc83441b16034566b7a806c46bb91c3c5aedb64a6c590bc84d1a5e269", "e4b47801afc0577e34699b9e",
     "4fbdc66f14", "671fdd", "0eaccb93da9bb81333aee0c785b240d319719d"},
    {"d1894728b3fed1473c528b8426a582995929a1499e9ad8780c8d63d0ab4149c0", "9f572c614b4745914474e7c7",
     "489c8fde2be2cf97e74e932d4ed87d", "c9882e5386fd9f92ec",
     "0df9e308678244c44bc0fd3dc6628dfe55ebb0b9fb2295c8c2"},
};

// RFC 8439 §2.8.2 (AEAD_CHACHA20_POLY1305).
constexpr const char* kPolyKey = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr const char* kPolyNonce = "070000004041424344454647";
constexpr const char* kPolyAad = "50515253c0c1c2c3c4c5c6c7";
constexpr const char* kPolyPlaintext =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";
constexpr const char* kPolyCiphertext =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
    "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
constexpr const char* kPolyTag = "1ae10b594f09e26a7e902ecbd0600691";

Bytes poly_plaintext() {
  const std::string s(kPolyPlaintext);
  return Bytes(s.begin(), s.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cipher)

BOOST_AUTO_TEST_CASE(chacha20poly1305_rfc8439_seal_matches) {
  Bytes data = poly_plaintext();
  std::array<uint8_t, kChaChaPolyTagSize> tag{};
  chacha20poly1305_seal(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), data, tag);
  BOOST_TEST(hexs(data) == kPolyCiphertext);
  BOOST_TEST(hexs(tag) == kPolyTag);
}

BOOST_AUTO_TEST_CASE(chacha20poly1305_rfc8439_open_any_split) {
  const Bytes ct = unhex(kPolyCiphertext);
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{32}, std::size_t{63},
                            std::size_t{64}, std::size_t{65}, ct.size()}) {
    BOOST_TEST_CONTEXT("split at " << split) {
      Bytes a(split), b(ct.size() - split);
      BOOST_TEST_REQUIRE(chacha20poly1305_open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad),
                                               ct, unhex(kPolyTag), {a, b}) == Error::ok);
      append(a, b);
      BOOST_TEST(a == poly_plaintext());
    }
  }
}

BOOST_AUTO_TEST_CASE(chacha20poly1305_rejects_changes_and_wipes_output) {
  const Bytes ct = unhex(kPolyCiphertext);
  const Bytes tag = unhex(kPolyTag);
  auto open = [&](Bytes key, Bytes nonce, Bytes aad, Bytes c, Bytes t) {
    Bytes out(c.size());
    const Error e = chacha20poly1305_open(key, nonce, aad, c, t, {out});
    if (e != Error::ok) BOOST_TEST((out == Bytes(c.size(), 0)));
    return e;
  };
  BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), ct, tag) == Error::ok);
  for (std::size_t bit = 0; bit < ct.size() * 8; bit += 7) {
    Bytes c = ct;
    c[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), c, tag) ==
               Error::decryption_failed);
  }
  Bytes t = tag, k = unhex(kPolyKey), n = unhex(kPolyNonce), a = unhex(kPolyAad);
  t[15] ^= 0x80;
  k[0] ^= 1;
  n[11] ^= 1;
  a[0] ^= 1;
  BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), ct, t) == Error::decryption_failed);
  BOOST_TEST(open(k, unhex(kPolyNonce), unhex(kPolyAad), ct, tag) == Error::decryption_failed);
  BOOST_TEST(open(unhex(kPolyKey), n, unhex(kPolyAad), ct, tag) == Error::decryption_failed);
  BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), a, ct, tag) == Error::decryption_failed);
  BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), ct, Bytes(tag.begin(), tag.end() - 1)) ==
             Error::decryption_failed);
  // A failed open leaves no state behind: the next message still opens.
  BOOST_TEST(open(unhex(kPolyKey), unhex(kPolyNonce), unhex(kPolyAad), ct, tag) == Error::ok);
}

BOOST_AUTO_TEST_CASE(gcm_siv_rfc8452_encrypt_matches) {
  for (const auto& v : kGcmSiv) {
    BOOST_TEST_CONTEXT("key " << v.key << " pt " << v.plaintext) {
      BOOST_TEST(hexs(aes256_gcm_siv_encrypt(unhex(v.key), unhex(v.nonce), unhex(v.aad),
                                             unhex(v.plaintext))) == v.sealed);
    }
  }
}

BOOST_AUTO_TEST_CASE(gcm_siv_rfc8452_decrypt_matches) {
  for (const auto& v : kGcmSiv) {
    BOOST_TEST_CONTEXT("key " << v.key << " pt " << v.plaintext) {
      auto pt = aes256_gcm_siv_decrypt(unhex(v.key), unhex(v.nonce), unhex(v.aad), unhex(v.sealed));
      BOOST_TEST_REQUIRE(pt.ok());
      BOOST_TEST(hexs(*pt) == v.plaintext);
    }
  }
}

BOOST_AUTO_TEST_CASE(gcm_siv_rejects_any_flipped_bit) {
  const auto& v = kGcmSiv[5];
  const Bytes sealed = unhex(v.sealed);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      auto r = aes256_gcm_siv_decrypt(unhex(v.key), unhex(v.nonce), unhex(v.aad),
                                      test::flip(sealed, i, mask));
      BOOST_TEST(r.error() == Error::decryption_failed, "byte " << i);
    }
  }
}

BOOST_AUTO_TEST_CASE(gcm_siv_rejects_wrong_key_nonce_or_aad) {
  const auto& v = kGcmSiv[5];
  const Bytes key = unhex(v.key), nonce = unhex(v.nonce), aad = unhex(v.aad);
  const Bytes sealed = unhex(v.sealed);
  BOOST_TEST(aes256_gcm_siv_decrypt(test::flip(key, 0), nonce, aad, sealed).error() ==
             Error::decryption_failed);
  BOOST_TEST(aes256_gcm_siv_decrypt(key, test::flip(nonce, 11), aad, sealed).error() ==
             Error::decryption_failed);
  BOOST_TEST(aes256_gcm_siv_decrypt(key, nonce, test::flip(aad, 0), sealed).error() ==
             Error::decryption_failed);
  BOOST_TEST(aes256_gcm_siv_decrypt(key, nonce, {}, sealed).error() == Error::decryption_failed);
}

BOOST_AUTO_TEST_CASE(gcm_siv_rejects_input_shorter_than_tag) {
  const auto& v = kGcmSiv[0];
  const Bytes sealed = unhex(v.sealed);
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    BOOST_TEST(aes256_gcm_siv_decrypt(unhex(v.key), unhex(v.nonce), {}, ByteView(sealed).first(n))
                   .error() == Error::decryption_failed);
  }
}

BOOST_AUTO_TEST_CASE(ctr_nist_sp800_38a_f55_encrypt) {
  const Bytes key = unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const Bytes counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const Bytes pt = unhex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  Bytes ct(pt.size());
  aes256_ctr(key, counter, pt, ct);
  BOOST_TEST(hexs(ct) ==
             "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
             "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
  // F.5.6: decryption is the same operation, done in place here.
  aes256_ctr(key, counter, ct, ct);
  BOOST_TEST(ct == pt);
}

BOOST_AUTO_TEST_CASE(ctr_partial_block_is_a_keystream_prefix) {
  const Bytes key(32, 0x42), iv(16, 0);
  const Bytes zeros(37, 0);
  Bytes full(zeros.size()), part(5);
  aes256_ctr(key, iv, zeros, full);
  aes256_ctr(key, iv, ByteView(zeros).first(5), part);
  BOOST_TEST(ByteView(full).first(5).size() == part.size());
  BOOST_TEST(std::equal(part.begin(), part.end(), full.begin()));
}

BOOST_AUTO_TEST_SUITE_END()

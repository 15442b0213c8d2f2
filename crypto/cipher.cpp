// libgcrypt-backed AES modes; no block cipher or AEAD is implemented here.
#include "crypto/cipher.h"

#include <gcrypt.h>

#include "base/check.h"
#include "crypto/init.h"

namespace veil::crypto {
namespace {

struct Handle {
  gcry_cipher_hd_t hd = nullptr;
  Handle(int mode, ByteView key) {
    ensure_initialized();
    VEIL_CHECK(gcry_cipher_open(&hd, GCRY_CIPHER_AES256, mode, 0) == 0,
               "libgcrypt refused to open an AES-256 handle (broken libgcrypt)");
    VEIL_CHECK(gcry_cipher_setkey(hd, key.data(), key.size()) == 0,
               "libgcrypt refused the AES-256 key (wrong key length: misuse, or broken libgcrypt)");
  }
  ~Handle() { gcry_cipher_close(hd); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

}  // namespace

void aes256_ctr(ByteView key32, ByteView iv16, ByteView in, std::span<uint8_t> out) {
  VEIL_CHECK(key32.size() == 32 && iv16.size() == 16 && out.size() == in.size(),
             "aes256_ctr: key must be 32 bytes, iv 16 bytes, output as long as input (misuse)");
  Handle h(GCRY_CIPHER_MODE_CTR, key32);
  VEIL_CHECK(gcry_cipher_setctr(h.hd, iv16.data(), iv16.size()) == 0 &&
                 gcry_cipher_encrypt(h.hd, out.data(), out.size(), in.data(), in.size()) == 0,
             "libgcrypt refused AES-256-CTR with a correct key and counter");
}

Bytes aes256_gcm_siv_encrypt(ByteView key32, ByteView nonce12, ByteView aad,
                             ByteView plaintext) {
  VEIL_CHECK(key32.size() == 32 && nonce12.size() == kGcmSivNonceSize,
             "aes256_gcm_siv_encrypt: key must be 32 bytes, nonce 12 bytes (misuse)");
  Handle h(GCRY_CIPHER_MODE_GCM_SIV, key32);
  Bytes out(plaintext.size() + kGcmSivTagSize);
  VEIL_CHECK(gcry_cipher_setiv(h.hd, nonce12.data(), nonce12.size()) == 0 &&
                 (aad.empty() || gcry_cipher_authenticate(h.hd, aad.data(), aad.size()) == 0) &&
                 gcry_cipher_final(h.hd) == 0 &&
                 gcry_cipher_encrypt(h.hd, out.data(), plaintext.size(), plaintext.data(),
                                     plaintext.size()) == 0 &&
                 gcry_cipher_gettag(h.hd, out.data() + plaintext.size(), kGcmSivTagSize) == 0,
             "libgcrypt refused AES-256-GCM-SIV encryption with a correct key and nonce");
  return out;
}

Result<Bytes> aes256_gcm_siv_decrypt(ByteView key32, ByteView nonce12, ByteView aad,
                                     ByteView sealed) {
  VEIL_CHECK(key32.size() == 32 && nonce12.size() == kGcmSivNonceSize,
             "aes256_gcm_siv_decrypt: key must be 32 bytes, nonce 12 bytes (misuse)");
  if (sealed.size() < kGcmSivTagSize) return Error::decryption_failed;
  const std::size_t n = sealed.size() - kGcmSivTagSize;
  Handle h(GCRY_CIPHER_MODE_GCM_SIV, key32);
  Bytes out(n);
  // GCM-SIV in libgcrypt: the expected tag is set before decrypting; decrypt fails on mismatch.
  if (gcry_cipher_setiv(h.hd, nonce12.data(), nonce12.size()) != 0 ||
      (!aad.empty() && gcry_cipher_authenticate(h.hd, aad.data(), aad.size()) != 0) ||
      gcry_cipher_set_decryption_tag(h.hd, sealed.data() + n, kGcmSivTagSize) != 0 ||
      gcry_cipher_final(h.hd) != 0 ||
      gcry_cipher_decrypt(h.hd, out.data(), n, sealed.data(), n) != 0) {
    wipe(out);
    return Error::decryption_failed;
  }
  return out;
}

}  // namespace veil::crypto

namespace veil::crypto {
namespace {

// One ChaCha20-Poly1305 handle per thread, re-keyed for every message and cleared after it, so no
// key outlives the call (opening a handle per message costs more than the cipher on short input).
class ChaChaPoly {
 public:
  ChaChaPoly() {
    ensure_initialized();
    VEIL_CHECK(gcry_cipher_open(&hd_, GCRY_CIPHER_CHACHA20, GCRY_CIPHER_MODE_POLY1305, 0) == 0,
               "libgcrypt refused ChaCha20-Poly1305");
  }
  ~ChaChaPoly() { gcry_cipher_close(hd_); }
  ChaChaPoly(const ChaChaPoly&) = delete;
  ChaChaPoly& operator=(const ChaChaPoly&) = delete;

  gcry_cipher_hd_t start(ByteView key32, ByteView nonce12, ByteView aad) {
    VEIL_CHECK(key32.size() == kChaChaPolyKeySize && nonce12.size() == kChaChaPolyNonceSize,
               "ChaCha20-Poly1305: key must be 32 bytes, nonce 12 bytes (misuse)");
    VEIL_CHECK(gcry_cipher_setkey(hd_, key32.data(), key32.size()) == 0 &&
                   gcry_cipher_setiv(hd_, nonce12.data(), nonce12.size()) == 0 &&
                   (aad.empty() || gcry_cipher_authenticate(hd_, aad.data(), aad.size()) == 0),
               "libgcrypt refused a correct-length ChaCha20-Poly1305 key, nonce or AAD");
    return hd_;
  }
  // Leaves nothing of the last message in the handle: the key (and libgcrypt's copy of the keyed
  // context), the buffered keystream block and the last tag are all replaced by values derived
  // from an all-zero key and nonce.
  void clear() {
    static const uint8_t kZero[kChaChaPolyKeySize] = {};
    uint8_t scratch[64] = {};
    uint8_t tag[kChaChaPolyTagSize];
    gcry_cipher_setkey(hd_, kZero, sizeof kZero);
    gcry_cipher_setiv(hd_, kZero, kChaChaPolyNonceSize);
    gcry_cipher_encrypt(hd_, scratch, sizeof scratch, nullptr, 0);
    gcry_cipher_gettag(hd_, tag, sizeof tag);
    gcry_cipher_reset(hd_);
  }

 private:
  gcry_cipher_hd_t hd_ = nullptr;
};

ChaChaPoly& chacha_poly() {
  thread_local ChaChaPoly handle;
  return handle;
}

}  // namespace

void chacha20poly1305_seal(ByteView key32, ByteView nonce12, ByteView aad, std::span<uint8_t> data,
                           std::span<uint8_t, kChaChaPolyTagSize> tag) {
  ChaChaPoly& c = chacha_poly();
  gcry_cipher_hd_t hd = c.start(key32, nonce12, aad);
  VEIL_CHECK((data.empty() || gcry_cipher_encrypt(hd, data.data(), data.size(), nullptr, 0) == 0) &&
                 gcry_cipher_gettag(hd, tag.data(), tag.size()) == 0,
             "libgcrypt refused ChaCha20-Poly1305 encryption on a keyed handle");
  c.clear();
}

Error chacha20poly1305_open(ByteView key32, ByteView nonce12, ByteView aad, ByteView ciphertext,
                            ByteView tag, std::initializer_list<std::span<uint8_t>> outputs) {
  std::size_t total = 0;
  for (auto out : outputs) total += out.size();
  VEIL_CHECK(total == ciphertext.size(),
             "chacha20poly1305_open: outputs must add up to the ciphertext length (misuse)");
  ChaChaPoly& c = chacha_poly();
  gcry_cipher_hd_t hd = c.start(key32, nonce12, aad);
  bool ok = tag.size() == kChaChaPolyTagSize;
  std::size_t at = 0;
  for (auto out : outputs) {
    if (out.empty()) continue;
    if (gcry_cipher_decrypt(hd, out.data(), out.size(), ciphertext.data() + at, out.size()) != 0) {
      ok = false;
    }
    at += out.size();
  }
  if (ok && gcry_cipher_checktag(hd, tag.data(), tag.size()) != 0) ok = false;
  c.clear();
  if (ok) return Error::ok;
  for (auto out : outputs) wipe(out);
  return Error::decryption_failed;
}

}  // namespace veil::crypto

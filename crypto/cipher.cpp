// libgcrypt-backed AES modes; no block cipher or AEAD is implemented here.
#include "crypto/cipher.h"

#include <gcrypt.h>

#include <cstdlib>

#include "crypto/init.h"

namespace veil::crypto {
namespace {

struct Handle {
  gcry_cipher_hd_t hd = nullptr;
  Handle(int mode, ByteView key) {
    ensure_initialized();
    if (gcry_cipher_open(&hd, GCRY_CIPHER_AES256, mode, 0) != 0 ||
        gcry_cipher_setkey(hd, key.data(), key.size()) != 0) {
      std::abort();  // only reachable on a broken libgcrypt or a wrong key length (misuse)
    }
  }
  ~Handle() { gcry_cipher_close(hd); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

}  // namespace

void aes256_ctr(ByteView key32, ByteView iv16, ByteView in, std::span<uint8_t> out) {
  if (key32.size() != 32 || iv16.size() != 16 || out.size() != in.size()) std::abort();
  Handle h(GCRY_CIPHER_MODE_CTR, key32);
  if (gcry_cipher_setctr(h.hd, iv16.data(), iv16.size()) != 0 ||
      gcry_cipher_encrypt(h.hd, out.data(), out.size(), in.data(), in.size()) != 0) {
    std::abort();
  }
}

Bytes aes256_gcm_siv_encrypt(ByteView key32, ByteView nonce12, ByteView aad,
                             ByteView plaintext) {
  if (key32.size() != 32 || nonce12.size() != kGcmSivNonceSize) std::abort();
  Handle h(GCRY_CIPHER_MODE_GCM_SIV, key32);
  Bytes out(plaintext.size() + kGcmSivTagSize);
  if (gcry_cipher_setiv(h.hd, nonce12.data(), nonce12.size()) != 0 ||
      (!aad.empty() && gcry_cipher_authenticate(h.hd, aad.data(), aad.size()) != 0) ||
      gcry_cipher_final(h.hd) != 0 ||
      gcry_cipher_encrypt(h.hd, out.data(), plaintext.size(), plaintext.data(),
                          plaintext.size()) != 0 ||
      gcry_cipher_gettag(h.hd, out.data() + plaintext.size(), kGcmSivTagSize) != 0) {
    std::abort();
  }
  return out;
}

Result<Bytes> aes256_gcm_siv_decrypt(ByteView key32, ByteView nonce12, ByteView aad,
                                     ByteView sealed) {
  if (key32.size() != 32 || nonce12.size() != kGcmSivNonceSize) std::abort();
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

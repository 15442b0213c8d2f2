// Library initialisation and the libsignal-protocol-c context with a libsodium/libgcrypt provider.
#include <gcrypt.h>
#include <sodium.h>

#include <cstring>
#include <mutex>

#include "base/bytes.h"
#include "base/check.h"
#include "crypto/init.h"
#include "crypto/signal_context.h"

extern "C" {
#include <signal_protocol.h>
}

namespace veil::crypto {
namespace {

thread_local Rng* t_rng = nullptr;

using veil::Bytes;
using veil::wipe;

int random_cb(uint8_t* data, size_t len, void*) {
  Rng& rng = t_rng != nullptr ? *t_rng : system_rng();
  rng.fill({data, len});
  return SG_SUCCESS;
}

int hmac_init(void** ctx, const uint8_t* key, size_t key_len, void*) {
  auto* st = static_cast<crypto_auth_hmacsha256_state*>(
      sodium_malloc(sizeof(crypto_auth_hmacsha256_state)));
  if (st == nullptr) return SG_ERR_NOMEM;
  crypto_auth_hmacsha256_init(st, key, key_len);
  *ctx = st;
  return SG_SUCCESS;
}
int hmac_update(void* ctx, const uint8_t* data, size_t len, void*) {
  crypto_auth_hmacsha256_update(static_cast<crypto_auth_hmacsha256_state*>(ctx), data, len);
  return SG_SUCCESS;
}
int hmac_final(void* ctx, signal_buffer** out, void*) {
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(static_cast<crypto_auth_hmacsha256_state*>(ctx), mac);
  *out = signal_buffer_create(mac, sizeof mac);
  sodium_memzero(mac, sizeof mac);
  return *out != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}
void hmac_cleanup(void* ctx, void*) { sodium_free(ctx); }

int sha512_init(void** ctx, void*) {
  auto* st = static_cast<crypto_hash_sha512_state*>(
      sodium_malloc(sizeof(crypto_hash_sha512_state)));
  if (st == nullptr) return SG_ERR_NOMEM;
  crypto_hash_sha512_init(st);
  *ctx = st;
  return SG_SUCCESS;
}
int sha512_update(void* ctx, const uint8_t* data, size_t len, void*) {
  crypto_hash_sha512_update(static_cast<crypto_hash_sha512_state*>(ctx), data, len);
  return SG_SUCCESS;
}
int sha512_final(void* ctx, signal_buffer** out, void*) {
  uint8_t md[crypto_hash_sha512_BYTES];
  auto* st = static_cast<crypto_hash_sha512_state*>(ctx);
  crypto_hash_sha512_final(st, md);
  crypto_hash_sha512_init(st);  // the provider contract allows reuse after final
  *out = signal_buffer_create(md, sizeof md);
  return *out != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}
void sha512_cleanup(void* ctx, void*) { sodium_free(ctx); }

// AES-CBC with PKCS#5 padding or AES-CTR, as libsignal-protocol-c's session code expects.
int aes_cb(bool encrypt, signal_buffer** output, int cipher, const uint8_t* key, size_t key_len,
           const uint8_t* iv, size_t iv_len, const uint8_t* in, size_t in_len) {
  int algo = key_len == 16 ? GCRY_CIPHER_AES128
             : key_len == 24 ? GCRY_CIPHER_AES192
             : key_len == 32 ? GCRY_CIPHER_AES256
                             : 0;
  if (algo == 0 || iv_len != 16) return SG_ERR_INVAL;
  const bool cbc = cipher == SG_CIPHER_AES_CBC_PKCS5;
  if (!cbc && cipher != SG_CIPHER_AES_CTR_NOPADDING) return SG_ERR_INVAL;
  gcry_cipher_hd_t hd = nullptr;
  if (gcry_cipher_open(&hd, algo, cbc ? GCRY_CIPHER_MODE_CBC : GCRY_CIPHER_MODE_CTR, 0) != 0) {
    return SG_ERR_UNKNOWN;
  }
  int rc = SG_ERR_UNKNOWN;
  size_t out_len = in_len;
  Bytes buf;
  if (gcry_cipher_setkey(hd, key, key_len) == 0 &&
      (cbc ? gcry_cipher_setiv(hd, iv, iv_len) : gcry_cipher_setctr(hd, iv, iv_len)) == 0) {
    if (cbc && encrypt) {
      const size_t pad = 16 - in_len % 16;
      buf.assign(in, in + in_len);
      buf.insert(buf.end(), pad, static_cast<uint8_t>(pad));
    } else {
      buf.assign(in, in + in_len);
    }
    if (cbc && !encrypt && (in_len == 0 || in_len % 16 != 0)) {
      rc = SG_ERR_INVAL;
    } else if ((encrypt ? gcry_cipher_encrypt(hd, buf.data(), buf.size(), nullptr, 0)
                        : gcry_cipher_decrypt(hd, buf.data(), buf.size(), nullptr, 0)) == 0) {
      out_len = buf.size();
      rc = SG_SUCCESS;
      if (cbc && !encrypt) {
        const uint8_t pad = buf.back();
        if (pad == 0 || pad > 16) {
          rc = SG_ERR_UNKNOWN;
        } else {
          for (size_t i = buf.size() - pad; i < buf.size(); ++i) {
            if (buf[i] != pad) rc = SG_ERR_UNKNOWN;
          }
          out_len = buf.size() - pad;
        }
      }
    }
  }
  gcry_cipher_close(hd);
  if (rc == SG_SUCCESS) {
    *output = signal_buffer_create(buf.data(), out_len);
    if (*output == nullptr) rc = SG_ERR_NOMEM;
  }
  wipe(buf);
  return rc;
}
int encrypt_cb(signal_buffer** o, int c, const uint8_t* k, size_t kl, const uint8_t* iv,
               size_t ivl, const uint8_t* p, size_t pl, void*) {
  return aes_cb(true, o, c, k, kl, iv, ivl, p, pl);
}
int decrypt_cb(signal_buffer** o, int c, const uint8_t* k, size_t kl, const uint8_t* iv,
               size_t ivl, const uint8_t* p, size_t pl, void*) {
  return aes_cb(false, o, c, k, kl, iv, ivl, p, pl);
}

signal_context* g_context = nullptr;
std::once_flag g_once;

void init_once() {
  VEIL_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
  VEIL_CHECK(gcry_check_version(GCRYPT_VERSION) != nullptr,
             "libgcrypt at run time is older than the headers Veil was built with");
  gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  VEIL_CHECK(signal_context_create(&g_context, nullptr) == 0,
             "libsignal-protocol-c could not create its context");
  signal_crypto_provider provider{};
  provider.random_func = random_cb;
  provider.hmac_sha256_init_func = hmac_init;
  provider.hmac_sha256_update_func = hmac_update;
  provider.hmac_sha256_final_func = hmac_final;
  provider.hmac_sha256_cleanup_func = hmac_cleanup;
  provider.sha512_digest_init_func = sha512_init;
  provider.sha512_digest_update_func = sha512_update;
  provider.sha512_digest_final_func = sha512_final;
  provider.sha512_digest_cleanup_func = sha512_cleanup;
  provider.encrypt_func = encrypt_cb;
  provider.decrypt_func = decrypt_cb;
  VEIL_CHECK(signal_context_set_crypto_provider(g_context, &provider) == 0,
             "libsignal-protocol-c refused the crypto provider");
}

}  // namespace

void ensure_initialized() { std::call_once(g_once, init_once); }

signal_context* signal_ctx() {
  ensure_initialized();
  return g_context;
}

ScopedRng::ScopedRng(Rng& rng) : previous_(t_rng) { t_rng = &rng; }
ScopedRng::~ScopedRng() { t_rng = previous_; }

}  // namespace veil::crypto

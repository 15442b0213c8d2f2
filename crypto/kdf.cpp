// RFC 5869 extract-then-expand over libsodium's incremental HMAC-SHA256.
#include "crypto/kdf.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

namespace veil::crypto {

void hmac_sha256(ByteView key, ByteView data, std::span<uint8_t, 32> out) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, data.data(), data.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
}

void hkdf_sha256(std::initializer_list<ByteView> ikm_parts, ByteView salt, ByteView info,
                 std::span<uint8_t> out) {
  if (out.empty() || out.size() > kHkdfMaxOutput) std::abort();  // API misuse
  static const uint8_t kZeroSalt[32] = {};
  if (salt.empty()) salt = ByteView(kZeroSalt, sizeof kZeroSalt);

  Wiped<32> prk;
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, salt.data(), salt.size());
  for (ByteView part : ikm_parts) crypto_auth_hmacsha256_update(&st, part.data(), part.size());
  crypto_auth_hmacsha256_final(&st, prk.data());

  Wiped<32> t;
  std::size_t t_len = 0;
  std::size_t done = 0;
  for (uint8_t counter = 1; done < out.size(); ++counter) {
    crypto_auth_hmacsha256_init(&st, prk.data(), prk.size());
    crypto_auth_hmacsha256_update(&st, t.data(), t_len);
    crypto_auth_hmacsha256_update(&st, info.data(), info.size());
    crypto_auth_hmacsha256_update(&st, &counter, 1);
    crypto_auth_hmacsha256_final(&st, t.data());
    t_len = 32;
    const std::size_t n = std::min<std::size_t>(32, out.size() - done);
    std::copy_n(t.data(), n, out.data() + done);
    done += n;
  }
  sodium_memzero(&st, sizeof st);
}

}  // namespace veil::crypto

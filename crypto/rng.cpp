// System and seeded random generators over libsodium.
#include "crypto/rng.h"

#include <sodium.h>

#include <cstring>

namespace veil {

uint64_t Rng::uniform(uint64_t bound) {
  if (bound <= 1) return 0;
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    uint64_t x = 0;
    fill({reinterpret_cast<uint8_t*>(&x), sizeof x});
    if (x < limit) return x % bound;
  }
}

double Rng::unit() {
  uint64_t x = 0;
  fill({reinterpret_cast<uint8_t*>(&x), sizeof x});
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

void SystemRng::fill(std::span<uint8_t> out) { randombytes_buf(out.data(), out.size()); }

SeededRng::SeededRng(uint64_t seed) {
  std::memcpy(key_.data(), &seed, sizeof seed);
  crypto_hash_sha256(key_.data(), key_.data(), key_.size());
}

SeededRng::SeededRng(const std::array<uint8_t, 32>& seed) : key_(seed) {}

void SeededRng::fill(std::span<uint8_t> out) {
  // Each call consumes a fresh 64-bit nonce, so streams never overlap.
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  std::memcpy(nonce, &counter_, sizeof counter_);
  ++counter_;
  std::memset(out.data(), 0, out.size());
  crypto_stream_chacha20_xor(out.data(), out.data(), out.size(), nonce, key_.data());
}

Rng& system_rng() {
  static SystemRng rng;
  return rng;
}

}  // namespace veil

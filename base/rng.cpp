// System, fast-key-erasure and seeded random generators over libsodium.
#include "base/rng.h"

#include <sodium.h>

#include <algorithm>
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

SeededRng::~SeededRng() { sodium_memzero(key_.data(), key_.size()); }

void SeededRng::fill(std::span<uint8_t> out) {
  // Each call consumes a fresh 64-bit nonce, so streams never overlap.
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  std::memcpy(nonce, &counter_, sizeof counter_);
  ++counter_;
  std::memset(out.data(), 0, out.size());
  crypto_stream_chacha20_xor(out.data(), out.data(), out.size(), nonce, key_.data());
}

FastRng::FastRng(std::size_t reseed_bytes) : reseed_bytes_(reseed_bytes) {
  randombytes_buf(key_.data(), key_.size());
}

FastRng::~FastRng() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(buf_.data(), buf_.size());
}

void FastRng::refill() {
  if (since_seed_ >= reseed_bytes_) {
    std::array<uint8_t, 32> fresh{};
    randombytes_buf(fresh.data(), fresh.size());
    for (std::size_t i = 0; i < key_.size(); ++i) key_[i] ^= fresh[i];
    sodium_memzero(fresh.data(), fresh.size());
    since_seed_ = 0;
  }
  static const uint8_t kNonce[crypto_stream_chacha20_NONCEBYTES] = {};
  crypto_stream_chacha20(buf_.data(), buf_.size(), kNonce, key_.data());
  std::memcpy(key_.data(), buf_.data(), key_.size());
  sodium_memzero(buf_.data(), key_.size());
  pos_ = key_.size();
  since_seed_ += buf_.size();
}

void FastRng::fill(std::span<uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (pos_ == buf_.size()) refill();
    const std::size_t n = std::min(out.size() - done, buf_.size() - pos_);
    std::memcpy(out.data() + done, buf_.data() + pos_, n);
    sodium_memzero(buf_.data() + pos_, n);
    pos_ += n;
    done += n;
  }
}

Rng& system_rng() {
  static SystemRng rng;
  return rng;
}

}  // namespace veil

// Injected randomness: the system CSPRNG, a fast-key-erasure generator over it, and a seeded
// deterministic stream (tests, simulations, per-batch worker generators).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace veil {

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` with random bytes. Never fails.
  virtual void fill(std::span<uint8_t> out) = 0;
  // A uniform integer in [0, bound) without modulo bias; 0 when bound is 0 or 1.
  uint64_t uniform(uint64_t bound);
  // A uniform double in [0, 1) with 53 random bits.
  double unit();
};

// The operating system's CSPRNG (libsodium randombytes). Thread-safe.
class SystemRng final : public Rng {
 public:
  void fill(std::span<uint8_t> out) override;
};

// A deterministic ChaCha20 stream from a 32-byte seed: reproducible tests and simulations, and
// the relay's per-batch worker generators (seeded from its injected Rng; no buffer to fill, so
// seeding costs nothing). Each fill() uses the next 64-bit nonce. The key is wiped on
// destruction. Not thread-safe.
class SeededRng final : public Rng {
 public:
  // The key is SHA-256 of the seed's 8 bytes in host order.
  explicit SeededRng(uint64_t seed);
  explicit SeededRng(const std::array<uint8_t, 32>& seed);
  ~SeededRng() override;
  SeededRng(const SeededRng&) = delete;
  SeededRng& operator=(const SeededRng&) = delete;
  void fill(std::span<uint8_t> out) override;

 private:
  std::array<uint8_t, 32> key_{};
  uint64_t counter_ = 0;
};

// A fast-key-erasure generator (Bernstein, "Fast-key-erasure random-number generators", 2017):
// ChaCha20 keyed from the system CSPRNG fills a buffer; the first 32 bytes of every refill become
// the next key and are erased from the buffer, so past outputs cannot be recomputed from the
// state. Reseeds from the system every `reseed_bytes`. For hot paths (packet padding, nonces)
// where one getrandom() per call costs more than the cryptography. Not thread-safe.
class FastRng final : public Rng {
 public:
  explicit FastRng(std::size_t reseed_bytes = 1u << 26);
  ~FastRng() override;
  FastRng(const FastRng&) = delete;
  FastRng& operator=(const FastRng&) = delete;
  void fill(std::span<uint8_t> out) override;

 private:
  void refill();
  std::array<uint8_t, 32> key_{};
  std::array<uint8_t, 8192> buf_{};
  std::size_t pos_ = sizeof(buf_);
  std::size_t since_seed_ = 0;
  std::size_t reseed_bytes_;
};

// The process-wide system RNG.
Rng& system_rng();

}  // namespace veil

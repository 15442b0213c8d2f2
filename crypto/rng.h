// Injected randomness: the system CSPRNG in production, a seeded deterministic stream in tests.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace veil {

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` with random bytes. Never fails.
  virtual void fill(std::span<uint8_t> out) = 0;
  // A uniform integer in [0, bound) without modulo bias; bound must be > 0.
  uint64_t uniform(uint64_t bound);
  // A uniform double in [0, 1) with 53 random bits.
  double unit();
};

// The operating system's CSPRNG (libsodium randombytes). Thread-safe.
class SystemRng final : public Rng {
 public:
  void fill(std::span<uint8_t> out) override;
};

// A deterministic ChaCha20 stream from a 32-byte seed, for reproducible tests and simulations.
// Not thread-safe.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed);
  explicit SeededRng(const std::array<uint8_t, 32>& seed);
  void fill(std::span<uint8_t> out) override;

 private:
  std::array<uint8_t, 32> key_{};
  uint64_t counter_ = 0;
};

// The process-wide system RNG.
Rng& system_rng();

}  // namespace veil

// Fixed keys shared by the fuzz targets and their seed writer, so that seeds decrypt and validate.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "crypto/certificate.h"
#include "crypto/keys.h"
#include "base/rng.h"

namespace veil::fuzz {

inline constexpr uint64_t kNow = 1'700'000'000'000;
inline constexpr uint64_t kExpires = 1'800'000'000'000;

struct FuzzWorld {
  SeededRng rng{0xF0225EED};
  crypto::KeyPair trust_root = crypto::KeyPair::generate(rng);
  crypto::KeyPair server = crypto::KeyPair::generate(rng);
  crypto::KeyPair sender = crypto::KeyPair::generate(rng);
  crypto::KeyPair recipient = crypto::KeyPair::generate(rng);

  crypto::TrustPolicy policy() const {
    crypto::TrustPolicy p;
    p.roots = {trust_root.pub};
    return p;
  }
};

// One instance per process; the keys depend only on the fixed seed.
inline FuzzWorld& world() {
  static FuzzWorld w;
  return w;
}

// A broken invariant: crash so that libFuzzer records the input.
inline void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace veil::fuzz

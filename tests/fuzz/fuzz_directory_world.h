// Fixed directory authority keys and times shared by the directory and descriptor fuzz targets and
// their seed writer, so that seeds verify.
#pragma once

#include <cstdint>
#include <vector>

#include "base/rng.h"
#include "crypto/identity.h"
#include "fuzz_world.h"

namespace veil::fuzz {

inline constexpr int64_t kDirectoryNowS = static_cast<int64_t>(kNow / 1000);
inline constexpr int64_t kDirectoryGenesisS = kDirectoryNowS - 10'000;
inline constexpr int64_t kDirectoryEpochS = 3600;

struct DirectoryWorld {
  SeededRng rng{0xD12EC7};
  crypto::IdentityKey authority_a = crypto::IdentityKey::generate(rng);
  crypto::IdentityKey authority_b = crypto::IdentityKey::generate(rng);
  std::vector<crypto::IdentityPublicKey> authorities() const {
    return {authority_a.public_key(), authority_b.public_key()};
  }
};

// One instance per process; the keys depend only on the fixed seed.
inline DirectoryWorld& directory_world() {
  static DirectoryWorld w;
  return w;
}

}  // namespace veil::fuzz

// Signal's XEd25519 signatures over X25519 keys, through libsignal-protocol-c.
#pragma once

#include <array>

#include "base/bytes.h"
#include "crypto/keys.h"
#include "base/rng.h"

namespace veil::crypto {

inline constexpr std::size_t kSignatureSize = 64;
using Signature = std::array<uint8_t, kSignatureSize>;

// Signs `message` with 64 bytes of randomness from `rng`. Thread-safe.
Signature xeddsa_sign(const PrivateKey& key, ByteView message, Rng& rng);
// True only for a 64-byte signature that verifies over exactly `message`. Thread-safe.
bool xeddsa_verify(const PublicKey& key, ByteView message, ByteView signature);

}  // namespace veil::crypto

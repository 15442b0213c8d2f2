// HKDF-SHA256 (RFC 5869) and HMAC-SHA256, composed from libgcrypt's HMAC-SHA256.
#pragma once

#include <initializer_list>

#include "base/bytes.h"

namespace veil::crypto {

inline constexpr std::size_t kHkdfMaxOutput = 255 * 32;
inline constexpr std::size_t kHkdfMaxIkmParts = 8;

// HKDF-SHA256 with `ikm` given as the concatenation of `ikm_parts` (no copy is made).
// An empty salt is the RFC's default (32 zero bytes). out.size() must be in 1..8160 and there may
// be at most kHkdfMaxIkmParts parts.
void hkdf_sha256(std::initializer_list<ByteView> ikm_parts, ByteView salt, ByteView info,
                 std::span<uint8_t> out);

inline void hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::span<uint8_t> out) {
  hkdf_sha256({ikm}, salt, info, out);
}

// HMAC-SHA256(key, data) into a 32-byte buffer.
void hmac_sha256(ByteView key, ByteView data, std::span<uint8_t, 32> out);

}  // namespace veil::crypto

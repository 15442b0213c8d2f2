// AES-256-CTR (zero IV, Signal's sealed sender v1) and AES-256-GCM-SIV (RFC 8452) via libgcrypt.
#pragma once

#include "crypto/bytes.h"
#include "crypto/error.h"

namespace veil::crypto {

inline constexpr std::size_t kGcmSivTagSize = 16;
inline constexpr std::size_t kGcmSivNonceSize = 12;

// out = AES-256-CTR(key, iv, in), the whole IV as a 128-bit big-endian counter (libgcrypt). With
// the zero IV of sealed sender v1 this equals libsignal's 32-bit counter below 64 GiB.
// out.size() must equal in.size(); in and out may alias.
void aes256_ctr(ByteView key32, ByteView iv16, ByteView in, std::span<uint8_t> out);

// Returns ciphertext || 16-byte tag.
Bytes aes256_gcm_siv_encrypt(ByteView key32, ByteView nonce12, ByteView aad, ByteView plaintext);
// Takes ciphertext || tag; `decryption_failed` on any authentication failure.
Result<Bytes> aes256_gcm_siv_decrypt(ByteView key32, ByteView nonce12, ByteView aad,
                                     ByteView sealed);

}  // namespace veil::crypto

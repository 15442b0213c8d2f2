// AES-256-CTR (zero IV, Signal's sealed sender v1), AES-256-GCM-SIV (RFC 8452) and
// ChaCha20-Poly1305 (RFC 8439) via libgcrypt.
#pragma once

#include <initializer_list>

#include "base/bytes.h"
#include "base/error.h"

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

inline constexpr std::size_t kChaChaPolyKeySize = 32;
inline constexpr std::size_t kChaChaPolyNonceSize = 12;
inline constexpr std::size_t kChaChaPolyTagSize = 16;

// ChaCha20-Poly1305 (RFC 8439) with a detached tag: encrypts `data` in place and writes the tag.
void chacha20poly1305_seal(ByteView key32, ByteView nonce12, ByteView aad, std::span<uint8_t> data,
                           std::span<uint8_t, kChaChaPolyTagSize> tag);

// Decrypts `ciphertext` into the concatenation of `outputs` (their sizes must add up to
// ciphertext.size(); none may overlap the ciphertext) and checks `tag`. On `decryption_failed`
// the outputs are wiped. The result does not depend on how the output is split.
Error chacha20poly1305_open(ByteView key32, ByteView nonce12, ByteView aad, ByteView ciphertext,
                            ByteView tag, std::initializer_list<std::span<uint8_t>> outputs);

}  // namespace veil::crypto

// Relay identity keys: Ed25519 (RFC 8032) through libsodium, for signing descriptors, directories
// and TLS link certificates.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"

namespace veil::crypto {

inline constexpr std::size_t kIdentityKeySize = 32;    // Ed25519 public key (RFC 8032 §5.1.5)
inline constexpr std::size_t kIdentitySeedSize = 32;   // Ed25519 private key (the seed)
inline constexpr std::size_t kIdentitySignatureSize = 64;

using IdentitySignature = std::array<uint8_t, kIdentitySignatureSize>;

// An Ed25519 public key: 32 bytes as RFC 8032 encodes it.
class IdentityPublicKey {
 public:
  IdentityPublicKey() = default;
  // Exactly 32 bytes; anything else is `invalid_key`. The bytes are not checked for being a
  // valid point here; verify() refuses signatures under a key that is not.
  static Result<IdentityPublicKey> parse(ByteView raw32);
  const std::array<uint8_t, kIdentityKeySize>& raw() const { return raw_; }
  bool operator==(const IdentityPublicKey& other) const { return raw_ == other.raw_; }
  bool operator<(const IdentityPublicKey& other) const { return raw_ < other.raw_; }

  // True iff `signature` is this key's Ed25519 signature of `message` (libsodium's
  // crypto_sign_verify_detached: canonical S, no small-order keys or R).
  bool verify(ByteView message, const IdentitySignature& signature) const;

 private:
  std::array<uint8_t, kIdentityKeySize> raw_{};
};

// An Ed25519 key pair whose 32-byte seed lives in libsodium guarded memory, wiped on destruction.
// Move-only.
class IdentityKey {
 public:
  // A fresh key from 32 bytes of `rng`.
  static IdentityKey generate(Rng& rng);
  // From the 32-byte seed (the private key of RFC 8032); other sizes are `invalid_key`.
  static Result<IdentityKey> from_seed(ByteView seed32);

  IdentityKey(IdentityKey&&) noexcept = default;
  IdentityKey& operator=(IdentityKey&&) noexcept = default;
  ~IdentityKey();

  // The 32-byte seed (secret; for writing the key file and for loading it into a TLS library).
  ByteView seed() const { return {secret_.get(), kIdentitySeedSize}; }
  const IdentityPublicKey& public_key() const { return pub_; }
  // The Ed25519 signature of `message` (deterministic, RFC 8032 §5.1.6).
  IdentitySignature sign(ByteView message) const;

 private:
  struct Free {
    void operator()(uint8_t* p) const noexcept;
  };
  IdentityKey();
  // seed (32) || libsodium's expanded secret key (64: seed || public key).
  std::unique_ptr<uint8_t, Free> secret_;
  IdentityPublicKey pub_;
};

}  // namespace veil::crypto

// Curve25519 keys in Signal's serialization: public 0x05 || 32 B, private 32 B (clamped).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/error.h"
#include "base/rng.h"

namespace veil::crypto {

inline constexpr std::size_t kKeySize = 32;               // raw X25519 key
inline constexpr std::size_t kSerializedPublicKeySize = 33;  // 0x05 || raw
inline constexpr uint8_t kDjbKeyType = 0x05;

class PublicKey {
 public:
  PublicKey() = default;
  // Takes the 32-byte u-coordinate as is.
  static PublicKey from_raw(ByteView raw32);
  // Accepts exactly 33 bytes starting with 0x05; anything else is `invalid_key`.
  static Result<PublicKey> parse(ByteView serialized);

  const std::array<uint8_t, kKeySize>& raw() const { return raw_; }
  // 0x05 || raw.
  std::array<uint8_t, kSerializedPublicKeySize> serialize() const;
  bool operator==(const PublicKey& other) const { return raw_ == other.raw_; }

 private:
  std::array<uint8_t, kKeySize> raw_{};
};

// A private key held in libsodium guarded memory, wiped on destruction. Move-only.
class PrivateKey {
 public:
  // Random clamped key from `rng`.
  static PrivateKey generate(Rng& rng);
  // Accepts exactly 32 bytes; clamps on load as libsignal does.
  static Result<PrivateKey> parse(ByteView raw32);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  ~PrivateKey();

  ByteView raw() const { return {data_.get(), kKeySize}; }
  PublicKey public_key() const;
  // X25519(this, peer) into out; `invalid_key_agreement` if the result is all zero.
  Error agree(const PublicKey& peer, std::span<uint8_t, kKeySize> out) const;

 private:
  struct Free {
    void operator()(uint8_t* p) const noexcept;
  };
  PrivateKey();
  std::unique_ptr<uint8_t, Free> data_;
};

// A private key with its public key computed once.
struct KeyPair {
  PrivateKey priv;
  PublicKey pub;
  static KeyPair generate(Rng& rng);
  static KeyPair from_private(PrivateKey priv);
};

// X25519 over raw scalars (clamped internally); `invalid_key_agreement` on an all-zero result.
Error x25519(ByteView priv32, const PublicKey& peer, std::span<uint8_t, kKeySize> out);
// The public key of a raw 32-byte scalar.
PublicKey x25519_base(ByteView priv32);
// Applies X25519 clamping in place.
void clamp(std::span<uint8_t, kKeySize> scalar);

}  // namespace veil::crypto

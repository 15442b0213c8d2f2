// X25519 key handling over libsodium; private keys live in guarded memory.
#include "crypto/keys.h"

#include <sodium.h>

#include <cstring>
#include <new>

#include "base/check.h"
#include "crypto/init.h"

namespace veil::crypto {

PublicKey PublicKey::from_raw(ByteView raw32) {
  VEIL_CHECK(raw32.size() == kKeySize, "PublicKey::from_raw: callers pass exactly 32 bytes (misuse)");
  PublicKey k;
  std::memcpy(k.raw_.data(), raw32.data(), kKeySize);
  return k;
}

Result<PublicKey> PublicKey::parse(ByteView serialized) {
  if (serialized.size() != kSerializedPublicKeySize || serialized[0] != kDjbKeyType) {
    return Error::invalid_key;
  }
  return from_raw(serialized.subspan(1));
}

std::array<uint8_t, kSerializedPublicKeySize> PublicKey::serialize() const {
  std::array<uint8_t, kSerializedPublicKeySize> out{};
  out[0] = kDjbKeyType;
  std::memcpy(out.data() + 1, raw_.data(), kKeySize);
  return out;
}

void PrivateKey::Free::operator()(uint8_t* p) const noexcept { sodium_free(p); }

PrivateKey::PrivateKey() {
  ensure_initialized();
  auto* p = static_cast<uint8_t*>(sodium_malloc(kKeySize));
  if (p == nullptr) throw std::bad_alloc();
  data_.reset(p);
}

PrivateKey::~PrivateKey() = default;

PrivateKey PrivateKey::generate(Rng& rng) {
  PrivateKey k;
  rng.fill({k.data_.get(), kKeySize});
  clamp(std::span<uint8_t, kKeySize>(k.data_.get(), kKeySize));
  return k;
}

Result<PrivateKey> PrivateKey::parse(ByteView raw32) {
  if (raw32.size() != kKeySize) return Error::invalid_key;
  PrivateKey k;
  std::memcpy(k.data_.get(), raw32.data(), kKeySize);
  clamp(std::span<uint8_t, kKeySize>(k.data_.get(), kKeySize));
  return k;
}

PublicKey PrivateKey::public_key() const { return x25519_base(raw()); }

Error PrivateKey::agree(const PublicKey& peer, std::span<uint8_t, kKeySize> out) const {
  return x25519(raw(), peer, out);
}

KeyPair KeyPair::generate(Rng& rng) { return from_private(PrivateKey::generate(rng)); }

KeyPair KeyPair::from_private(PrivateKey priv) {
  PublicKey pub = priv.public_key();
  return KeyPair{std::move(priv), pub};
}

Error x25519(ByteView priv32, const PublicKey& peer, std::span<uint8_t, kKeySize> out) {
  // libsodium clamps the scalar and returns -1 when the result is all zero.
  if (crypto_scalarmult(out.data(), priv32.data(), peer.raw().data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return Error::invalid_key_agreement;
  }
  return Error::ok;
}

PublicKey x25519_base(ByteView priv32) {
  std::array<uint8_t, kKeySize> pub{};
  crypto_scalarmult_base(pub.data(), priv32.data());
  return PublicKey::from_raw(pub);
}

void clamp(std::span<uint8_t, kKeySize> s) {
  s[0] &= 248;
  s[31] &= 127;
  s[31] |= 64;
}

}  // namespace veil::crypto

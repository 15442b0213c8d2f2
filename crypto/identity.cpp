// Ed25519 identity keys over libsodium's crypto_sign (RFC 8032).
#include "crypto/identity.h"

#include <sodium.h>

#include <cstring>
#include <new>

#include "crypto/init.h"

namespace veil::crypto {

static_assert(crypto_sign_PUBLICKEYBYTES == kIdentityKeySize);
static_assert(crypto_sign_SEEDBYTES == kIdentitySeedSize);
static_assert(crypto_sign_BYTES == kIdentitySignatureSize);
static_assert(crypto_sign_SECRETKEYBYTES == 64);

namespace {
constexpr std::size_t kSecretSize = kIdentitySeedSize + crypto_sign_SECRETKEYBYTES;
}

Result<IdentityPublicKey> IdentityPublicKey::parse(ByteView raw32) {
  if (raw32.size() != kIdentityKeySize) return Error::invalid_key;
  IdentityPublicKey k;
  std::memcpy(k.raw_.data(), raw32.data(), kIdentityKeySize);
  return k;
}

bool IdentityPublicKey::verify(ByteView message, const IdentitySignature& signature) const {
  ensure_initialized();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     raw_.data()) == 0;
}

void IdentityKey::Free::operator()(uint8_t* p) const noexcept { sodium_free(p); }

IdentityKey::IdentityKey() {
  ensure_initialized();
  auto* p = static_cast<uint8_t*>(sodium_malloc(kSecretSize));
  if (p == nullptr) throw std::bad_alloc();
  secret_.reset(p);
}

IdentityKey::~IdentityKey() = default;

IdentityKey IdentityKey::generate(Rng& rng) {
  Wiped<kIdentitySeedSize> seed;
  rng.fill(seed.bytes);
  auto key = from_seed(seed.bytes);
  return std::move(*key);
}

Result<IdentityKey> IdentityKey::from_seed(ByteView seed32) {
  if (seed32.size() != kIdentitySeedSize) return Error::invalid_key;
  IdentityKey k;
  uint8_t* s = k.secret_.get();
  std::memcpy(s, seed32.data(), kIdentitySeedSize);
  std::array<uint8_t, kIdentityKeySize> pub{};
  crypto_sign_seed_keypair(pub.data(), s + kIdentitySeedSize, s);
  k.pub_ = *IdentityPublicKey::parse(pub);
  return k;
}

IdentitySignature IdentityKey::sign(ByteView message) const {
  IdentitySignature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_.get() + kIdentitySeedSize);
  return sig;
}

}  // namespace veil::crypto

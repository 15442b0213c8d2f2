// Sealed sender v1 per libsignal's sealed_sender_v1: two HKDF'd ECDH stages, AES-CTR + HMAC-10.
#include "crypto/sealed_sender_v1.h"

#include <sodium.h>

#include "crypto/cipher.h"
#include "crypto/kdf.h"
#include "sealed_sender.pb.h"

namespace veil::crypto {
namespace pb = signal::proto::sealed_sender;

namespace {

constexpr std::string_view kSaltPrefix = "UnidentifiedDelivery";
constexpr std::size_t kMacSize = 10;
const uint8_t kZeroIv[16] = {};

struct StageKeys {
  Wiped<96> okm;
  ByteView chain() const { return ByteView(okm).subspan(0, 32); }
  ByteView cipher() const { return ByteView(okm).subspan(32, 32); }
  ByteView mac() const { return ByteView(okm).subspan(64, 32); }
};

// ephemeral stage: salt = "UnidentifiedDelivery" || pub33(R) || pub33(E)
void ephemeral_keys(ByteView shared, const PublicKey& recipient, const PublicKey& eph,
                    StageKeys& k) {
  std::array<uint8_t, 20 + 33 + 33> salt{};
  std::copy(kSaltPrefix.begin(), kSaltPrefix.end(), salt.begin());
  const auto r33 = recipient.serialize();
  const auto e33 = eph.serialize();
  std::copy(r33.begin(), r33.end(), salt.begin() + 20);
  std::copy(e33.begin(), e33.end(), salt.begin() + 53);
  hkdf_sha256(shared, salt, {}, k.okm);
}

// static stage: salt = chainKey || encryptedStatic (with its MAC)
void static_keys(ByteView shared, ByteView chain_key, ByteView encrypted_static, StageKeys& k) {
  std::array<uint8_t, 32 + 33 + kMacSize> salt{};
  std::copy(chain_key.begin(), chain_key.end(), salt.begin());
  std::copy(encrypted_static.begin(), encrypted_static.end(), salt.begin() + 32);
  hkdf_sha256(shared, salt, {}, k.okm);
}

// ciphertext || HMAC-SHA256(mac_key, ciphertext)[0..10]
Bytes encrypt_and_mac(ByteView cipher_key, ByteView mac_key, ByteView plaintext) {
  Bytes out(plaintext.size() + kMacSize);
  aes256_ctr(cipher_key, kZeroIv, plaintext, std::span(out.data(), plaintext.size()));
  std::array<uint8_t, 32> mac{};
  hmac_sha256(mac_key, ByteView(out.data(), plaintext.size()), mac);
  std::copy_n(mac.begin(), kMacSize, out.data() + plaintext.size());
  return out;
}

// Constant-time MAC check, then decryption; false on a bad MAC.
bool verify_and_decrypt(ByteView cipher_key, ByteView mac_key, ByteView sealed, Bytes& out) {
  if (sealed.size() < kMacSize) return false;
  const ByteView ct = sealed.first(sealed.size() - kMacSize);
  std::array<uint8_t, 32> mac{};
  hmac_sha256(mac_key, ct, mac);
  if (!ct_equal(ByteView(mac).first(kMacSize), sealed.last(kMacSize))) return false;
  out.resize(ct.size());
  aes256_ctr(cipher_key, kZeroIv, ct, out);
  return true;
}

std::string as_string(ByteView b) { return std::string(b.begin(), b.end()); }

}  // namespace

Result<Bytes> seal_v1(ByteView usmc, const KeyPair& sender, const PublicKey& recipient,
                      Rng& rng) {
  Wiped<32> e;
  rng.fill(e);
  clamp(std::span<uint8_t, 32>(e.data(), 32));
  const PublicKey eph = x25519_base(e);

  Wiped<32> ss;
  if (Error err = x25519(e, recipient, ss); err != Error::ok) return err;
  StageKeys k1;
  ephemeral_keys(ss, recipient, eph, k1);
  const auto s33 = sender.pub.serialize();
  const Bytes encrypted_static = encrypt_and_mac(k1.cipher(), k1.mac(), s33);

  if (Error err = sender.priv.agree(recipient, ss); err != Error::ok) return err;
  StageKeys k2;
  static_keys(ss, k1.chain(), encrypted_static, k2);
  const Bytes encrypted_message = encrypt_and_mac(k2.cipher(), k2.mac(), usmc);

  pb::UnidentifiedSenderMessage m;
  const auto e33 = eph.serialize();
  m.set_ephemeralpublic(e33.data(), e33.size());
  m.set_encryptedstatic(as_string(encrypted_static));
  m.set_encryptedmessage(as_string(encrypted_message));
  Bytes out(1 + m.ByteSizeLong());
  out[0] = kSealedSenderV1Version;
  m.SerializeWithCachedSizesToArray(out.data() + 1);
  return out;
}

Result<OpenedV1> decrypt_v1(ByteView message, const KeyPair& recipient) {
  if (message.empty()) return Error::truncated;
  if ((message[0] >> 4) > 1) return Error::unknown_version;
  pb::UnidentifiedSenderMessage m;
  const ByteView body = message.subspan(1);
  if (body.size() > INT32_MAX || !m.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      !m.has_ephemeralpublic() || !m.has_encryptedstatic() || !m.has_encryptedmessage()) {
    return Error::malformed;
  }
  auto eph = PublicKey::parse(as_bytes(m.ephemeralpublic()));
  if (!eph) return Error::malformed;

  Wiped<32> ss;
  if (recipient.priv.agree(*eph, ss) != Error::ok) return Error::decryption_failed;
  StageKeys k1;
  ephemeral_keys(ss, recipient.pub, *eph, k1);
  Bytes static_bytes;
  const ByteView encrypted_static = as_bytes(m.encryptedstatic());
  if (encrypted_static.size() != kSerializedPublicKeySize + kMacSize) return Error::decryption_failed;
  if (!verify_and_decrypt(k1.cipher(), k1.mac(), encrypted_static, static_bytes)) {
    return Error::decryption_failed;
  }
  auto sender_static = PublicKey::parse(static_bytes);
  if (!sender_static) return Error::decryption_failed;

  if (recipient.priv.agree(*sender_static, ss) != Error::ok) return Error::decryption_failed;
  StageKeys k2;
  static_keys(ss, k1.chain(), encrypted_static, k2);
  OpenedV1 out;
  if (!verify_and_decrypt(k2.cipher(), k2.mac(), as_bytes(m.encryptedmessage()), out.usmc)) {
    return Error::decryption_failed;
  }
  out.sender_static = *sender_static;
  return out;
}

}  // namespace veil::crypto

// Sealed sender v2 (multi-recipient): seal once for many, fan out without keys, decrypt one.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keys.h"
#include "base/rng.h"
#include "crypto/service_id.h"

namespace veil::crypto {

inline constexpr uint8_t kSentMessageVersion = 0x23;        // what seal_v2 writes
inline constexpr uint8_t kSentMessageLegacyVersion = 0x22;  // ACI-only, 16-byte uuids
inline constexpr uint8_t kReceivedMessageVersion = 0x22;
inline constexpr std::size_t kRecipientKeyMaterialSize = 48;  // C (32) || AT (16)
inline constexpr uint16_t kMaxRegistrationId = 0x3FFF;

struct Device {
  uint8_t id = 0;                // 1..127
  uint16_t registration_id = 0;  // 14 bits
  bool operator==(const Device&) const = default;
};

struct SealRecipient {
  ServiceId service_id;
  std::vector<Device> devices;  // at least one
  PublicKey identity_key;       // shared by all of the recipient's devices
};

// Encrypts `usmc` once (AES-256-GCM-SIV) and wraps the key for every recipient: two X25519
// operations per recipient, none per device. Rejects an empty recipient list or a device list
// (`invalid_argument`), a service id listed twice in recipients or excluded
// (`duplicate_recipient`), a device listed twice for one recipient (`duplicate_recipient`),
// device ids outside 1..127 and registration ids over 14 bits.
Result<Bytes> seal_v2(ByteView usmc, const KeyPair& sender,
                      std::span<const SealRecipient> recipients,
                      std::span<const ServiceId> excluded, Rng& rng);

// A parsed SentMessage. Views point into the caller's buffer, which must outlive this object,
// and into the object's own device storage (so it is move-only).
struct SentMessage {
  struct Recipient {
    ServiceId service_id;
    std::span<const Device> devices;
    ByteView key_material;  // C_i || AT_i, 48 bytes
  };
  SentMessage() = default;
  SentMessage(SentMessage&&) noexcept = default;
  SentMessage& operator=(SentMessage&&) noexcept = default;
  SentMessage(const SentMessage&) = delete;
  SentMessage& operator=(const SentMessage&) = delete;

  uint8_t version = 0;
  std::vector<Recipient> recipients;  // merged by service id, in first-seen order
  std::vector<ServiceId> excluded;
  ByteView shared;  // E (32 B raw) || AES-GCM-SIV ciphertext || tag

  // Parses as libsignal's SealedSenderV2SentMessage::parse, plus the server's rule that a
  // recipient may not list the same device twice. `unknown_version`, `truncated`, `malformed`,
  // `invalid_service_id`, `invalid_device_id`, `duplicate_recipient`.
  static Result<SentMessage> parse(ByteView sent);

  // The received message for recipient i as three pieces (0x22, C||AT, shared) for gathered
  // writes without copying the shared tail. Valid while `this` and the input are.
  std::array<ByteView, 3> received_pieces(std::size_t i) const;
  // The same, copied into one buffer.
  Bytes received_message(std::size_t i) const;

 private:
  std::vector<Device> device_storage_;
};

struct OpenedV2 {
  Bytes usmc;
  // Inputs to the AT check, which needs the sender's key from the certificate inside usmc.
  std::array<uint8_t, 32> c{};
  std::array<uint8_t, 16> at{};
  PublicKey ephemeral;
};

// Decrypts a ReceivedMessage (high nibble 2): recovers M, re-derives E and checks it, decrypts.
// Every cryptographic failure is `decryption_failed`.
Result<OpenedV2> decrypt_v2(ByteView received, const KeyPair& recipient);

// Checks AT against the sender's identity key S taken from the decrypted certificate.
bool verify_v2_sender(const OpenedV2& opened, const KeyPair& recipient, const PublicKey& sender);

}  // namespace veil::crypto

// Shared helpers for the unit tests: hex literals, a tiny protobuf writer and a ready-made sender/recipient world.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "crypto/certificate.h"
#include "crypto/keys.h"
#include "crypto/message_content.h"
#include "base/rng.h"
#include "crypto/sealed_sender.h"
#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"

// Printers so that BOOST_TEST can show the operands of a failed comparison.
namespace veil {
std::ostream& operator<<(std::ostream& os, Error e);
}
namespace veil::crypto {
std::ostream& operator<<(std::ostream& os, const PublicKey& k);
std::ostream& operator<<(std::ostream& os, const ServiceId& id);
std::ostream& operator<<(std::ostream& os, ContentType t);
std::ostream& operator<<(std::ostream& os, const Device& d);
}  // namespace veil::crypto

namespace veil::test {

// Bytes of a hex literal; throws std::invalid_argument on bad hex (a broken test, not a failure).
Bytes unhex(std::string_view hex);
std::string hexs(ByteView b);
crypto::KeyPair key_pair_from_hex(std::string_view private_hex);
crypto::PublicKey public_key_from_hex(std::string_view serialized_hex);
crypto::ServiceId service_id(std::string_view text);
// `b` with bit `bit` of byte `index` flipped.
Bytes flip(ByteView b, std::size_t index, uint8_t mask = 0x01);

// Protobuf wire-format pieces for hand-built messages (tag = field << 3 | wire type).
void pb_varint(Bytes& out, uint32_t field, uint64_t value);
void pb_bytes(Bytes& out, uint32_t field, ByteView value);
void pb_fixed64(Bytes& out, uint32_t field, uint64_t value);

inline constexpr uint64_t kNow = 1'700'000'000'000;      // ms, 2023-11-14
inline constexpr uint64_t kExpires = 1'800'000'000'000;  // ms, 2027-01-15
inline constexpr uint32_t kServerKeyId = 0x10;
inline constexpr std::string_view kSenderUuid = "6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c";
inline constexpr std::string_view kSenderE164 = "+15550001111";
inline constexpr uint32_t kSenderDevice = 2;
inline constexpr std::string_view kContent = "opaque inner ciphertext";

// A trust root, a server certificate it signed, a sender with a certificate, and a recipient; all
// derived from one seed so every test sees the same keys.
struct World {
  SeededRng rng;
  crypto::KeyPair trust_root;
  crypto::KeyPair server;
  crypto::KeyPair sender;
  crypto::KeyPair recipient;
  crypto::ServerCertificate server_cert;
  crypto::SenderCertificate sender_cert;

  explicit World(uint64_t seed = 1);

  crypto::SenderCertificate::Fields sender_fields() const;
  // A sender certificate over `fields`, signed by the server key and embedding server_cert.
  crypto::SenderCertificate certificate(const crypto::SenderCertificate::Fields& fields);
  // A USMC carrying `cert` (default: sender_cert).
  Bytes usmc(const crypto::SenderCertificate* cert = nullptr,
             crypto::ContentType type = crypto::ContentType::message);
  crypto::TrustPolicy policy() const;
  crypto::CertificateValidator validator() const { return crypto::CertificateValidator(policy()); }

  Bytes seal_v1(ByteView usmc_bytes);
  Bytes seal_v1() { return seal_v1(usmc()); }
  // A v2 ReceivedMessage for `recipient` (as one single-device recipient of seal_v2).
  Bytes received_v2(ByteView usmc_bytes, const crypto::KeyPair& sealer);
  Bytes received_v2() { return received_v2(usmc(), sender); }
};

}  // namespace veil::test

// Signal's ServerCertificate and SenderCertificate: issue, parse, and validate against trust roots.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keys.h"
#include "base/rng.h"
#include "crypto/xeddsa.h"

namespace veil::crypto {

inline constexpr uint32_t kRevokedTestKeyId = 0xDEADC357;

struct ServerCertificate {
  uint32_t key_id = 0;
  PublicKey key;
  Bytes certificate;  // the exact signed bytes
  Bytes signature;
  Bytes serialized;   // the whole ServerCertificate as received or issued

  // Signs {key_id, key} with the trust root.
  static ServerCertificate issue(uint32_t key_id, const PublicKey& key,
                                 const PrivateKey& trust_root, Rng& rng);
  // `malformed` unless both outer fields and the inner id and key are present and well-formed.
  static Result<ServerCertificate> parse(ByteView serialized);
};

struct SenderCertificate {
  std::string sender_uuid;                 // as carried (uuidString), or formatted from uuidBytes
  bool uuid_as_bytes = false;
  std::optional<std::string> sender_e164;
  uint32_t sender_device = 0;
  uint64_t expires_ms = 0;
  PublicKey identity_key;
  std::optional<ServerCertificate> signer;  // embedded signer, or
  std::optional<uint32_t> signer_id;        // reference to a server certificate known to the verifier
  Bytes certificate;
  Bytes signature;
  Bytes serialized;

  struct Fields {
    std::string sender_uuid;  // hyphenated UUID
    bool uuid_as_bytes = false;  // write uuidBytes (Signal-Server's form) instead of uuidString
    std::optional<std::string> sender_e164;
    uint32_t sender_device = 1;
    uint64_t expires_ms = 0;
    PublicKey identity_key;
  };
  // Signs the fields with `signer_key`; embeds `signer` when given, else writes `signer_id`.
  // `invalid_device_id` unless device is 1..127; `invalid_service_id` for a bad uuid.
  static Result<SenderCertificate> issue(const Fields& fields, const ServerCertificate* signer,
                                         std::optional<uint32_t> signer_id,
                                         const PrivateKey& signer_key, Rng& rng);
  // `malformed` on missing required fields, bad keys, device out of 1..127, or a bad signer.
  static Result<SenderCertificate> parse(ByteView serialized);
};

// What a verifier trusts: one root per federated provider, revoked server key ids, and the
// server certificates a `signer_id` may refer to.
struct TrustPolicy {
  std::vector<PublicKey> roots;
  std::vector<uint32_t> revoked_key_ids{kRevokedTestKeyId};
  std::map<uint32_t, ServerCertificate> known_server_certificates;
};

// True iff the server certificate is not revoked and verifies under at least one root.
// Every root is tried (no early exit), over the exact received bytes.
bool validate_server_certificate(const ServerCertificate& cert, const TrustPolicy& policy);

// ok, or `untrusted_certificate` (bad chain, signature, revoked, or now_ms > expires), or
// `unknown_server_certificate`. Valid at exactly `expires`.
Error validate_sender_certificate(const SenderCertificate& cert, const TrustPolicy& policy,
                                  uint64_t now_ms);

// Caches successful chain validations by the certificate's digest, so repeated opens from the
// same sender cost one hash instead of two signature checks. Expiry is checked on every call.
class CertificateValidator {
 public:
  explicit CertificateValidator(TrustPolicy policy, std::size_t capacity = 4096);
  Error validate(const SenderCertificate& cert, uint64_t now_ms);
  const TrustPolicy& policy() const { return policy_; }

 private:
  TrustPolicy policy_;
  std::size_t capacity_;
  std::map<std::array<uint8_t, 32>, bool> good_;
};

}  // namespace veil::crypto

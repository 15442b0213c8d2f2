// Simulated messenger accounts: a provider's trust root and server certificate, users with
// identity keys, sender certificates and unidentified access keys; sealing helpers for SSv1/SSv2.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "crypto/certificate.h"
#include "crypto/keys.h"
#include "base/rng.h"
#include "crypto/sealed_sender_v2.h"

namespace veil::sim {

struct Account {
  std::string uuid;
  crypto::KeyPair identity;
  std::array<uint8_t, 16> access_key{};
  uint16_t registration_id = 0;
  uint8_t device = 1;
  crypto::SenderCertificate certificate;  // issued by the account's provider
  crypto::ServiceId service_id() const;
};

struct Provider {
  std::string name;  // e.g. "alpha.example"
  crypto::KeyPair trust_root;
  crypto::KeyPair server_key;
  crypto::ServerCertificate server_certificate;
  std::vector<Account> accounts;

  // A provider with `users` accounts whose certificates expire at `expires_ms`.
  static Provider create(std::string name, std::size_t users, uint64_t expires_ms, Rng& rng);
};

// SSv1 from `sender` to `recipient` with opaque `content`.
Bytes seal_v1_to(const Account& sender, const Account& recipient, ByteView content, Rng& rng);
// SSv2 from `sender` to every account in `recipients` (their single device each).
Bytes seal_v2_to(const Account& sender, const std::vector<const Account*>& recipients,
                 ByteView content, Rng& rng);
// XOR of the recipients' access keys (Signal-Server's multi-recipient rule).
std::array<uint8_t, 16> combined_access_key(const std::vector<const Account*>& recipients);

}  // namespace veil::sim

// Opening any sealed-sender message (v1, or v2 received) with full validation, as a client would.
#pragma once

#include <optional>
#include <string>

#include "crypto/certificate.h"
#include "crypto/message_content.h"
#include "crypto/sealed_sender_v1.h"
#include "crypto/sealed_sender_v2.h"

namespace veil::crypto {

// The opening account's own address, for the self-send rule.
struct LocalAddress {
  std::string uuid;
  std::optional<std::string> e164;
  uint32_t device = 0;
};

struct OpenedMessage {
  int version = 0;  // 1 or 2
  MessageContent content;
};

// Decrypts, binds the sender's key to its certificate (v1: static key equals identity key; v2:
// the AT check), validates the certificate chain at `now_ms`, and applies the self-send rule.
// Returns `unknown_version`, `malformed`, `decryption_failed` (every cryptographic failure,
// including a certificate key that does not match), `untrusted_certificate`,
// `unknown_server_certificate` or `self_send`.
Result<OpenedMessage> open_sealed(ByteView message, const KeyPair& recipient,
                                  CertificateValidator& validator, uint64_t now_ms,
                                  const std::optional<LocalAddress>& self = std::nullopt);

}  // namespace veil::crypto

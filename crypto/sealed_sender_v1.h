// Sealed sender v1 (single recipient): seal a USMC and decrypt it, byte-compatible with libsignal.
#pragma once

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keys.h"
#include "base/rng.h"

namespace veil::crypto {

inline constexpr uint8_t kSealedSenderV1Version = 0x11;

// 0x11 || UnidentifiedSenderMessage{E, encryptedStatic, encryptedMessage}. Costs one fixed-base
// and two variable-base X25519 operations. `invalid_key_agreement` for a low-order recipient key.
Result<Bytes> seal_v1(ByteView usmc, const KeyPair& sender_identity, const PublicKey& recipient,
                      Rng& rng);

struct OpenedV1 {
  Bytes usmc;
  PublicKey sender_static;  // the key that was used in the static DH
};

// Decrypts a v1 message (high nibble 0 or 1). Every cryptographic failure is
// `decryption_failed`; a non-v1 version is `unknown_version`, a bad protobuf `malformed`.
// Does not check that sender_static matches the certificate: open_sealed does.
Result<OpenedV1> decrypt_v1(ByteView message, const KeyPair& recipient);

}  // namespace veil::crypto

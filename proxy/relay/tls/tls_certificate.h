// OpenSSL handles for a relay's Ed25519 identity: its private key, a self-signed X.509 certificate
// that carries it (RFC 8410 keys in RFC 5280 certificates), and the raw key a peer's certificate
// carries. Internal to proxy/relay/tls/.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

#include "crypto/identity.h"

namespace veil::relay {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The subject and issuer common name of every link certificate. Nothing reads it: the key in the
// certificate, not its name, is what a peer pins.
inline constexpr const char* kLinkCertificateName = "veil-relay";

// `key` as an OpenSSL Ed25519 private key (EVP_PKEY_new_raw_private_key over its 32-byte seed,
// RFC 8032 §5.1.5). Null if OpenSSL refuses it; the OpenSSL error queue is left empty.
PkeyPtr link_private_key(const crypto::IdentityKey& key);

// A self-signed X.509 v3 certificate for the Ed25519 key `key` (RFC 8410 §4 key, §6 signature):
// subject = issuer = CN=veil-relay, serial 1, valid from 1970-01-01 to 9999-12-31 (RFC 5280
// §4.1.2.5: no well-defined expiration; validity is never checked, since the key is pinned).
// Deterministic for a given key. Null on an OpenSSL failure; the error queue is left empty.
X509Ptr link_certificate(EVP_PKEY* key);

// The 32-byte Ed25519 public key in `cert` (EVP_PKEY_get_raw_public_key); nullopt if the
// certificate has no key or a key of another type (RSA, EC, Ed448, ...).
std::optional<crypto::IdentityPublicKey> link_certificate_identity(X509* cert);

}  // namespace veil::relay

// Link certificates: an Ed25519 identity key loaded into OpenSSL, wrapped in a self-signed X.509.
#include "proxy/relay/tls/tls_certificate.h"

#include <openssl/asn1.h>
#include <openssl/err.h>

#include <array>

namespace veil::relay {

PkeyPtr link_private_key(const crypto::IdentityKey& key) {
  const ByteView seed = key.seed();
  PkeyPtr p(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  ERR_clear_error();
  return p;
}

X509Ptr link_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  bool ok = cert != nullptr && key != nullptr;
  X509_NAME* name = ok ? X509_get_subject_name(cert.get()) : nullptr;
  ok = ok && name != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
       ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
       ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), "19700101000000Z") == 1 &&
       ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), "99991231235959Z") == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(kLinkCertificateName), -1,
                                  -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1 &&
       // Ed25519 signs the whole message itself: no digest (RFC 8410 §6).
       X509_sign(cert.get(), key, nullptr) > 0;
  ERR_clear_error();
  if (!ok) return nullptr;
  return cert;
}

std::optional<crypto::IdentityPublicKey> link_certificate_identity(X509* cert) {
  EVP_PKEY* key = cert != nullptr ? X509_get0_pubkey(cert) : nullptr;
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::array<uint8_t, crypto::kIdentityKeySize> raw{};
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 || len != raw.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  auto parsed = crypto::IdentityPublicKey::parse(raw);
  if (!parsed) return std::nullopt;
  return *parsed;
}

}  // namespace veil::relay

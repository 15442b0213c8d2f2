// Certificate encoding over the generated protobuf classes, and chain validation.
#include "crypto/certificate.h"

#include <sodium.h>

#include <algorithm>

#include "base/utf8.h"
#include "crypto/service_id.h"
#include "sealed_sender.pb.h"

namespace veil::crypto {
namespace pb = signal::proto::sealed_sender;

namespace {

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }

Bytes serialize(const google::protobuf::MessageLite& m) {
  Bytes out(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(out.data());
  return out;
}

bool parse_into(google::protobuf::MessageLite& m, ByteView b) {
  return b.size() <= INT32_MAX && m.ParseFromArray(b.data(), static_cast<int>(b.size()));
}

}  // namespace

ServerCertificate ServerCertificate::issue(uint32_t key_id, const PublicKey& key,
                                           const PrivateKey& trust_root, Rng& rng) {
  pb::ServerCertificate::Certificate inner;
  inner.set_id(key_id);
  const auto key33 = key.serialize();
  inner.set_key(key33.data(), key33.size());
  ServerCertificate c;
  c.key_id = key_id;
  c.key = key;
  c.certificate = serialize(inner);
  const Signature sig = xeddsa_sign(trust_root, c.certificate, rng);
  c.signature.assign(sig.begin(), sig.end());
  pb::ServerCertificate outer;
  outer.set_certificate(to_string(c.certificate));
  outer.set_signature(to_string(c.signature));
  c.serialized = serialize(outer);
  return c;
}

Result<ServerCertificate> ServerCertificate::parse(ByteView serialized) {
  pb::ServerCertificate outer;
  if (!parse_into(outer, serialized) || !outer.has_certificate() || !outer.has_signature()) {
    return Error::malformed;
  }
  pb::ServerCertificate::Certificate inner;
  if (!parse_into(inner, as_bytes(outer.certificate())) || !inner.has_id() || !inner.has_key()) {
    return Error::malformed;
  }
  auto key = PublicKey::parse(as_bytes(inner.key()));
  if (!key) return Error::malformed;
  ServerCertificate c;
  c.key_id = inner.id();
  c.key = *key;
  c.certificate = to_bytes(outer.certificate());
  c.signature = to_bytes(outer.signature());
  c.serialized.assign(serialized.begin(), serialized.end());
  return c;
}

Result<SenderCertificate> SenderCertificate::issue(const Fields& f,
                                                   const ServerCertificate* signer,
                                                   std::optional<uint32_t> signer_id,
                                                   const PrivateKey& signer_key, Rng& rng) {
  if (f.sender_device < 1 || f.sender_device > 127) return Error::invalid_device_id;
  auto uuid = parse_uuid(f.sender_uuid);
  if (!uuid) return uuid.error();
  // Protobuf strings are UTF-8; libsignal refuses a certificate whose strings are not.
  if (f.sender_e164 && !is_valid_utf8(*f.sender_e164)) return Error::invalid_utf8;
  if (signer == nullptr && !signer_id) return Error::invalid_argument;

  pb::SenderCertificate::Certificate inner;
  if (f.sender_e164) inner.set_sendere164(*f.sender_e164);
  inner.set_senderdevice(f.sender_device);
  inner.set_expires(f.expires_ms);
  const auto key33 = f.identity_key.serialize();
  inner.set_identitykey(key33.data(), key33.size());
  if (signer != nullptr) {
    inner.set_signercertificate(to_string(signer->serialized));
  } else {
    inner.set_signerid(*signer_id);
  }
  if (f.uuid_as_bytes) {
    inner.set_uuidbytes(uuid->data(), uuid->size());
  } else {
    inner.set_uuidstring(format_uuid(*uuid));  // canonical: lower case
  }
  const Bytes certificate = serialize(inner);
  const Signature sig = xeddsa_sign(signer_key, certificate, rng);
  pb::SenderCertificate outer;
  outer.set_certificate(to_string(certificate));
  outer.set_signature(sig.data(), sig.size());
  return parse(serialize(outer));
}

Result<SenderCertificate> SenderCertificate::parse(ByteView serialized) {
  pb::SenderCertificate outer;
  if (!parse_into(outer, serialized) || !outer.has_certificate() || !outer.has_signature()) {
    return Error::malformed;
  }
  pb::SenderCertificate::Certificate inner;
  if (!parse_into(inner, as_bytes(outer.certificate())) || !inner.has_senderdevice() ||
      !inner.has_expires() || !inner.has_identitykey()) {
    return Error::malformed;
  }
  SenderCertificate c;
  switch (inner.senderUuid_case()) {
    case pb::SenderCertificate::Certificate::kUuidString:
      if (!is_valid_utf8(inner.uuidstring())) return Error::malformed;  // as libsignal's decoder
      c.sender_uuid = inner.uuidstring();
      break;
    case pb::SenderCertificate::Certificate::kUuidBytes: {
      if (inner.uuidbytes().size() != 16) return Error::malformed;
      Uuid u{};
      std::copy(inner.uuidbytes().begin(), inner.uuidbytes().end(), u.begin());
      c.sender_uuid = format_uuid(u);
      c.uuid_as_bytes = true;
      break;
    }
    default:
      return Error::malformed;
  }
  if (inner.senderdevice() < 1 || inner.senderdevice() > 127) return Error::malformed;
  auto key = PublicKey::parse(as_bytes(inner.identitykey()));
  if (!key) return Error::malformed;
  switch (inner.signer_case()) {
    case pb::SenderCertificate::Certificate::kSignerCertificate: {
      auto signer = ServerCertificate::parse(as_bytes(inner.signercertificate()));
      if (!signer) return Error::malformed;
      c.signer = std::move(*signer);
      break;
    }
    case pb::SenderCertificate::Certificate::kSignerId:
      c.signer_id = inner.signerid();
      break;
    default:
      return Error::malformed;
  }
  if (inner.has_sendere164()) {
    if (!is_valid_utf8(inner.sendere164())) return Error::malformed;
    c.sender_e164 = inner.sendere164();
  }
  c.sender_device = inner.senderdevice();
  c.expires_ms = inner.expires();
  c.identity_key = *key;
  c.certificate = to_bytes(outer.certificate());
  c.signature = to_bytes(outer.signature());
  c.serialized.assign(serialized.begin(), serialized.end());
  return c;
}

bool validate_server_certificate(const ServerCertificate& cert, const TrustPolicy& policy) {
  if (std::find(policy.revoked_key_ids.begin(), policy.revoked_key_ids.end(), cert.key_id) !=
      policy.revoked_key_ids.end()) {
    return false;
  }
  bool any = false;
  for (const PublicKey& root : policy.roots) {
    any |= xeddsa_verify(root, cert.certificate, cert.signature);
  }
  return any;
}

Error validate_sender_certificate(const SenderCertificate& cert, const TrustPolicy& policy,
                                  uint64_t now_ms) {
  const ServerCertificate* signer = nullptr;
  if (cert.signer) {
    signer = &*cert.signer;
  } else {
    auto it = policy.known_server_certificates.find(*cert.signer_id);
    if (it == policy.known_server_certificates.end()) return Error::unknown_server_certificate;
    signer = &it->second;
  }
  const bool chain_ok = validate_server_certificate(*signer, policy);
  const bool sig_ok = xeddsa_verify(signer->key, cert.certificate, cert.signature);
  if (!chain_ok || !sig_ok || now_ms > cert.expires_ms) return Error::untrusted_certificate;
  return Error::ok;
}

CertificateValidator::CertificateValidator(TrustPolicy policy, std::size_t capacity)
    : policy_(std::move(policy)), capacity_(capacity) {}

Error CertificateValidator::validate(const SenderCertificate& cert, uint64_t now_ms) {
  if (now_ms > cert.expires_ms) return Error::untrusted_certificate;
  std::array<uint8_t, 32> digest{};
  crypto_hash_sha256(digest.data(), cert.serialized.data(), cert.serialized.size());
  if (good_.contains(digest)) return Error::ok;
  const Error e = validate_sender_certificate(cert, policy_, now_ms);
  if (e == Error::ok) {
    if (good_.size() >= capacity_) good_.clear();
    good_.emplace(digest, true);
  }
  return e;
}

}  // namespace veil::crypto

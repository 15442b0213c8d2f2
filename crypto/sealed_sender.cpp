// Version dispatch and the checks that follow decryption (libsignal's sealed_sender_decrypt).
#include "crypto/sealed_sender.h"

#include "crypto/service_id.h"

namespace veil::crypto {
namespace {

// UUIDs compare case-insensitively (as parsed); a certificate UUID that does not parse is
// compared as text.
bool same_uuid(const std::string& a, const std::string& b) {
  const auto pa = parse_uuid(a);
  const auto pb = parse_uuid(b);
  if (pa && pb) return *pa == *pb;
  return a == b;
}

bool is_self(const SenderCertificate& c, const LocalAddress& self) {
  const bool same_account =
      same_uuid(c.sender_uuid, self.uuid) || (c.sender_e164 && self.e164 && *c.sender_e164 == *self.e164);
  return same_account && c.sender_device == self.device;
}

}  // namespace

Result<OpenedMessage> open_sealed(ByteView message, const KeyPair& recipient,
                                  CertificateValidator& validator, uint64_t now_ms,
                                  const std::optional<LocalAddress>& self) {
  if (message.empty()) return Error::truncated;
  OpenedMessage out;
  const int nibble = message[0] >> 4;
  if (nibble <= 1) {
    auto v1 = decrypt_v1(message, recipient);
    if (!v1) return v1.error();
    auto content = MessageContent::parse(v1->usmc);
    if (!content) return Error::malformed;
    if (!ct_equal(content->sender.identity_key.raw(), v1->sender_static.raw())) {
      return Error::decryption_failed;
    }
    out.version = 1;
    out.content = std::move(*content);
  } else if (nibble == 2) {
    auto v2 = decrypt_v2(message, recipient);
    if (!v2) return v2.error();
    auto content = MessageContent::parse(v2->usmc);
    if (!content) return Error::malformed;
    if (!verify_v2_sender(*v2, recipient, content->sender.identity_key)) {
      return Error::decryption_failed;
    }
    out.version = 2;
    out.content = std::move(*content);
  } else {
    return Error::unknown_version;
  }
  if (Error e = validator.validate(out.content.sender, now_ms); e != Error::ok) return e;
  if (self && is_self(out.content.sender, *self)) return Error::self_send;
  return out;
}

}  // namespace veil::crypto

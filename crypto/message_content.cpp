// USMC encoding and parsing over the generated protobuf class.
#include "crypto/message_content.h"

#include "sealed_sender.pb.h"

namespace veil::crypto {
namespace pb = signal::proto::sealed_sender;

std::string_view content_type_name(ContentType t) {
  switch (t) {
    case ContentType::prekey: return "prekey";
    case ContentType::message: return "message";
    case ContentType::senderkey: return "senderkey";
    case ContentType::plaintext: return "plaintext";
  }
  return "unknown";
}

Result<ContentType> parse_content_type(std::string_view name) {
  for (ContentType t : {ContentType::prekey, ContentType::message, ContentType::senderkey,
                        ContentType::plaintext}) {
    if (content_type_name(t) == name) return t;
  }
  return Error::invalid_argument;
}

Bytes MessageContent::serialize(ContentType type, ByteView sender_certificate, ByteView content,
                                uint32_t content_hint, ByteView group_id) {
  pb::UnidentifiedSenderMessage::Message m;
  m.set_type(static_cast<uint32_t>(type));
  m.set_sendercertificate(sender_certificate.data(), sender_certificate.size());
  m.set_content(content.data(), content.size());
  if (content_hint != 0) m.set_contenthint(content_hint);
  if (!group_id.empty()) m.set_groupid(group_id.data(), group_id.size());
  Bytes out(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(out.data());
  return out;
}

Result<MessageContent> MessageContent::parse(ByteView serialized) {
  pb::UnidentifiedSenderMessage::Message m;
  if (serialized.size() > INT32_MAX ||
      !m.ParseFromArray(serialized.data(), static_cast<int>(serialized.size())) ||
      !m.has_type() || !m.has_sendercertificate() || !m.has_content()) {
    return Error::malformed;
  }
  MessageContent c;
  switch (m.type()) {
    case 1: case 2: case 7: case 8:
      c.type = static_cast<ContentType>(m.type());
      break;
    default:
      return Error::malformed;
  }
  auto cert = SenderCertificate::parse(as_bytes(m.sendercertificate()));
  if (!cert) return Error::malformed;
  c.sender = std::move(*cert);
  c.content.assign(m.content().begin(), m.content().end());
  c.content_hint = m.contenthint();
  if (m.has_groupid() && !m.groupid().empty()) {
    c.group_id = Bytes(m.groupid().begin(), m.groupid().end());
  }
  return c;
}

}  // namespace veil::crypto

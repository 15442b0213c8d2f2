// UnidentifiedSenderMessageContent ("USMC"): the plaintext of every sealed-sender message.
#pragma once

#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "crypto/certificate.h"
#include "base/error.h"

namespace veil::crypto {

// Values are the protobuf enum numbers.
enum class ContentType : uint32_t { prekey = 1, message = 2, senderkey = 7, plaintext = 8 };

std::string_view content_type_name(ContentType t);
// "prekey", "message", "senderkey", "plaintext".
Result<ContentType> parse_content_type(std::string_view name);

struct MessageContent {
  ContentType type = ContentType::message;
  SenderCertificate sender;
  Bytes content;                  // opaque inner ciphertext
  uint32_t content_hint = 0;      // 0 = default; unknown values are preserved
  std::optional<Bytes> group_id;  // absent when empty

  // Encodes as libsignal does (hint 0 and an empty group id are omitted).
  static Bytes serialize(ContentType type, ByteView sender_certificate, ByteView content,
                         uint32_t content_hint, ByteView group_id);
  // Requires type (a known value), sender certificate (parseable) and content.
  static Result<MessageContent> parse(ByteView serialized);
};

}  // namespace veil::crypto

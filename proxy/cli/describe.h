// JSON descriptions of keys, certificates and messages for `veil inspect` and `veil open`.
#pragma once

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "crypto/certificate.h"
#include "crypto/sealed_sender.h"

namespace veil::cli {

std::string base64(ByteView data);

nlohmann::json describe(const crypto::ServerCertificate& c);
nlohmann::json describe(const crypto::SenderCertificate& c);
// The `veil open` object: version, sender_*, type, content_hint, group_id, content, expires.
nlohmann::json describe(const crypto::OpenedMessage& m);
// Recognises the object in `data` and describes it with a "kind" field; nullopt if unknown.
std::optional<nlohmann::json> inspect(ByteView data);

}  // namespace veil::cli

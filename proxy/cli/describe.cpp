// Object recognition and JSON rendering for the CLI.
#include "proxy/cli/describe.h"

#include <sodium.h>

#include "crypto/sealed_sender_v2.h"
#include "sealed_sender.pb.h"

namespace veil::cli {
using nlohmann::json;
namespace pb = signal::proto::sealed_sender;

std::string base64(ByteView data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

json describe(const crypto::ServerCertificate& c) {
  return json{{"kind", "server_certificate"},
              {"key_id", c.key_id},
              {"key", to_hex(c.key.serialize())},
              {"signature", to_hex(c.signature)},
              {"size", c.serialized.size()}};
}

json describe(const crypto::SenderCertificate& c) {
  json j{{"kind", "sender_certificate"},
         {"sender_uuid", c.sender_uuid},
         {"uuid_encoding", c.uuid_as_bytes ? "bytes" : "string"},
         {"sender_e164", c.sender_e164 ? json(*c.sender_e164) : json(nullptr)},
         {"sender_device", c.sender_device},
         {"expires", c.expires_ms},
         {"identity_key", to_hex(c.identity_key.serialize())},
         {"signature", to_hex(c.signature)},
         {"size", c.serialized.size()}};
  if (c.signer) {
    j["signer"] = describe(*c.signer);
  } else {
    j["signer_id"] = *c.signer_id;
  }
  return j;
}

json describe(const crypto::OpenedMessage& m) {
  const auto& c = m.content;
  return json{{"version", m.version},
              {"sender_uuid", c.sender.sender_uuid},
              {"sender_e164", c.sender.sender_e164 ? json(*c.sender.sender_e164) : json(nullptr)},
              {"sender_device", c.sender.sender_device},
              {"type", crypto::content_type_name(c.type)},
              {"content_hint", c.content_hint},
              {"group_id", c.group_id ? json(to_hex(*c.group_id)) : json(nullptr)},
              {"content", base64(c.content)},
              {"expires", c.sender.expires_ms}};
}

namespace {

std::optional<json> inspect_v1(ByteView data) {
  pb::UnidentifiedSenderMessage m;
  const ByteView body = data.subspan(1);
  if (!m.ParseFromArray(body.data(), static_cast<int>(body.size())) || !m.has_ephemeralpublic() ||
      !m.has_encryptedstatic() || !m.has_encryptedmessage()) {
    return std::nullopt;
  }
  return json{{"kind", "sealed_sender_v1"},
              {"version_byte", data[0]},
              {"ephemeral_public", to_hex(as_bytes(m.ephemeralpublic()))},
              {"encrypted_static_size", m.encryptedstatic().size()},
              {"encrypted_message_size", m.encryptedmessage().size()},
              {"size", data.size()}};
}

json recipients_json(const crypto::SentMessage& s) {
  json list = json::array();
  for (const auto& r : s.recipients) {
    json devices = json::array();
    for (const auto& d : r.devices) {
      devices.push_back({{"id", d.id}, {"registration_id", d.registration_id}});
    }
    list.push_back({{"service_id", r.service_id.to_string()}, {"devices", devices}});
  }
  return list;
}

}  // namespace

std::optional<json> inspect(ByteView data) {
  if (data.empty()) return std::nullopt;
  if (data.size() == crypto::kKeySize) {
    auto k = crypto::PrivateKey::parse(data);
    return json{{"kind", "private_key"},
                {"public_key", to_hex(k->public_key().serialize())},
                {"size", data.size()}};
  }
  if (auto k = crypto::PublicKey::parse(data)) {
    return json{{"kind", "public_key"}, {"key", to_hex(data)}, {"size", data.size()}};
  }
  if (data[0] == 0x0a) {  // protobuf field 1, length-delimited: a certificate
    if (auto c = crypto::SenderCertificate::parse(data)) return describe(*c);
    if (auto c = crypto::ServerCertificate::parse(data)) return describe(*c);
  }
  const int nibble = data[0] >> 4;
  if (nibble <= 1) return inspect_v1(data);
  if (data[0] == crypto::kSentMessageVersion || data[0] == crypto::kSentMessageLegacyVersion) {
    if (auto s = crypto::SentMessage::parse(data)) {
      json excluded = json::array();
      for (const auto& x : s->excluded) excluded.push_back(x.to_string());
      return json{{"kind", "sealed_sender_v2_sent"},
                  {"version_byte", data[0]},
                  {"recipients", recipients_json(*s)},
                  {"excluded", excluded},
                  {"shared_size", s->shared.size()},
                  {"size", data.size()}};
    }
  }
  if (nibble == 2 && data.size() >= 1 + 48 + 32 + 16) {
    return json{{"kind", "sealed_sender_v2_received"},
                {"version_byte", data[0]},
                {"ephemeral_public", to_hex(data.subspan(49, 32))},
                {"ciphertext_size", data.size() - 81},
                {"size", data.size()}};
  }
  return std::nullopt;
}

}  // namespace veil::cli

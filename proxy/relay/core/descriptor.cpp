// Relay descriptors: checking, signing with the identity key, and strict parsing with verification.
#include "proxy/relay/core/descriptor.h"

#include <arpa/inet.h>

#include <set>

#include "proxy/relay/core/config_fields.h"
#include "proxy/relay/core/signed_json.h"

namespace veil::relay {
namespace {

using signed_json::json;
using signed_json::refuse;

constexpr std::size_t kMaxDepth = 4;

// Length of the UTF-8 sequence starting with `lead`, or 0 if `lead` cannot start one.
std::size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<uint8_t>(s[i]);
    const std::size_t n = sequence_length(lead);
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and code points above U+10FFFF.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

// `s` as a JSON string literal (control characters escaped), for details printed on one line.
std::string shown(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

nlohmann::ordered_json body_json(const Descriptor& d) {
  using ojson = nlohmann::ordered_json;
  ojson keys = ojson::array();
  for (const EpochPublicKey& k : d.epoch_keys) {
    const auto pub = k.key.serialize();
    keys.push_back(ojson::object({{"epoch", k.epoch}, {"key", to_hex(pub)}}));
  }
  return ojson::object({{"version", d.version},
                       {"name", d.name},
                       {"identity_key", to_hex(d.identity_key.raw())},
                       {"addresses", d.addresses},
                       {"providers", d.providers},
                       {"published", d.published_unix_s},
                       {"epoch_keys", std::move(keys)}});
}

// body[key] as an array of at most `max` strings.
Result<std::vector<std::string>> get_strings(const json& v, std::string_view key, std::size_t max,
                                             std::string* why) {
  const json& a = v.at(key);
  const std::string path = "body." + std::string(key);
  if (!a.is_array()) return refuse(why, Error::malformed, path + ": not an array");
  if (a.size() > max) {
    return refuse(why, Error::too_large, path + ": more than " + std::to_string(max) + " entries");
  }
  std::vector<std::string> out;
  for (const json& e : a) {
    if (!e.is_string()) return refuse(why, Error::malformed, path + ": an entry is not a string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// The descriptor in the body text, unchecked beyond types (check_descriptor follows).
Result<Descriptor> parse_body(std::string_view body, std::string* why) {
  auto v = signed_json::parse(body, kMaxDepth, why);
  if (!v) {
    if (why != nullptr) *why = "body: " + *why;
    return Error::malformed;
  }
  if (!v->is_object()) return refuse(why, Error::malformed, "body: not a JSON object");
  // The version decides the field set, so it is read first.
  if (!v->contains("version")) return refuse(why, Error::malformed, "body: missing \"version\"");
  auto version = signed_json::get_uint(*v, "body", "version", UINT32_MAX, why);
  if (!version) return Error::malformed;
  if (*version != kDescriptorVersion) {
    return refuse(why, Error::unknown_version,
                  "body.version: " + std::to_string(*version) + " (this build reads 1)");
  }
  if (Error e = signed_json::expect_fields(*v, "body",
                                           {"version", "name", "identity_key", "addresses",
                                            "providers", "published", "epoch_keys"},
                                           why);
      e != Error::ok) {
    return e;
  }
  Descriptor d;
  d.version = static_cast<uint32_t>(*version);
  auto name = signed_json::get_string(*v, "body", "name", why);
  if (!name) return Error::malformed;
  d.name = std::move(*name);
  auto id = signed_json::get_hex(*v, "body", "identity_key", crypto::kIdentityKeySize, why);
  if (!id) return Error::malformed;
  d.identity_key = *crypto::IdentityPublicKey::parse(*id);
  auto addresses = get_strings(*v, "addresses", kMaxAddresses, why);
  if (!addresses) return addresses.error();
  d.addresses = std::move(*addresses);
  auto providers = get_strings(*v, "providers", kMaxProviders, why);
  if (!providers) return providers.error();
  d.providers = std::move(*providers);
  auto published = signed_json::get_uint(*v, "body", "published", kMaxUnixS, why);
  if (!published) return Error::malformed;
  d.published_unix_s = static_cast<int64_t>(*published);
  const json& keys = v->at("epoch_keys");
  if (!keys.is_array()) return refuse(why, Error::malformed, "body.epoch_keys: not an array");
  if (keys.size() > kMaxDescriptorEpochs) {
    return refuse(why, Error::too_large,
                  "body.epoch_keys: more than " + std::to_string(kMaxDescriptorEpochs) + " entries");
  }
  for (const json& k : keys) {
    if (Error e = signed_json::expect_fields(k, "body.epoch_keys[]", {"epoch", "key"}, why);
        e != Error::ok) {
      return e;
    }
    auto epoch = signed_json::get_uint(k, "body.epoch_keys[]", "epoch", UINT64_MAX, why);
    if (!epoch) return Error::malformed;
    auto key = signed_json::get_hex(k, "body.epoch_keys[]", "key", crypto::kSerializedPublicKeySize, why);
    if (!key) return Error::malformed;
    auto pub = crypto::PublicKey::parse(*key);
    if (!pub) return refuse(why, Error::malformed, "body.epoch_keys[]: key does not start with 0x05");
    d.epoch_keys.push_back({*epoch, *pub});
  }
  return d;
}

}  // namespace

const crypto::PublicKey* Descriptor::epoch_key(uint64_t epoch) const {
  if (epoch_keys.empty() || epoch < epoch_keys.front().epoch) return nullptr;
  const uint64_t i = epoch - epoch_keys.front().epoch;
  if (i >= epoch_keys.size()) return nullptr;
  return &epoch_keys[i].key;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !valid_utf8(name)) return false;
  for (char c : name) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return true;
}

std::optional<std::string> canonical_address(std::string_view text, std::string* why) {
  auto e = config_detail::parse_endpoint(text, false, false);
  if (const auto* problem = std::get_if<std::string>(&e)) {
    if (why != nullptr) *why = *problem;
    return std::nullopt;
  }
  const Endpoint& ep = std::get<Endpoint>(e);
  char buf[INET6_ADDRSTRLEN] = {};
  in6_addr a6{};
  if (::inet_pton(AF_INET6, ep.host.c_str(), &a6) == 1) {
    ::inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(ep.port);
  }
  in_addr a4{};
  ::inet_pton(AF_INET, ep.host.c_str(), &a4);
  ::inet_ntop(AF_INET, &a4, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ep.port);
}

Error check_descriptor(const Descriptor& d, std::string* detail) {
  if (d.version != kDescriptorVersion) {
    return refuse(detail, Error::unknown_version, "version " + std::to_string(d.version));
  }
  if (!valid_name(d.name)) {
    return refuse(detail, Error::malformed,
                  "name: must be 1..255 bytes of UTF-8 without control characters");
  }
  if (d.addresses.empty()) return refuse(detail, Error::malformed, "addresses: none given");
  if (d.addresses.size() > kMaxAddresses) {
    return refuse(detail, Error::too_large,
                  "addresses: more than " + std::to_string(kMaxAddresses));
  }
  std::set<std::string> seen;
  for (const std::string& a : d.addresses) {
    std::string why;
    auto canonical = canonical_address(a, &why);
    if (!canonical) return refuse(detail, Error::malformed, "address " + shown(a) + ": " + why);
    if (!seen.insert(*canonical).second) {
      return refuse(detail, Error::duplicate_entry, "address " + shown(a) + " listed twice");
    }
  }
  if (d.providers.size() > kMaxProviders) {
    return refuse(detail, Error::too_large,
                  "providers: more than " + std::to_string(kMaxProviders));
  }
  std::set<std::string_view> providers;
  for (const std::string& p : d.providers) {
    if (!valid_name(p)) {
      return refuse(detail, Error::malformed,
                    "providers: a name is not 1..255 bytes of UTF-8 without control characters");
    }
    if (!providers.insert(p).second) {
      return refuse(detail, Error::malformed, "providers: " + shown(p) + " listed twice");
    }
  }
  if (d.published_unix_s < 0 || d.published_unix_s > kMaxUnixS) {
    return refuse(detail, Error::invalid_argument, "published: outside 0..9999-12-31");
  }
  if (d.epoch_keys.empty()) return refuse(detail, Error::malformed, "epoch_keys: none given");
  if (d.epoch_keys.size() > kMaxDescriptorEpochs) {
    return refuse(detail, Error::too_large,
                  "epoch_keys: more than " + std::to_string(kMaxDescriptorEpochs));
  }
  for (std::size_t i = 1; i < d.epoch_keys.size(); ++i) {
    if (d.epoch_keys[i - 1].epoch == UINT64_MAX ||
        d.epoch_keys[i].epoch != d.epoch_keys[i - 1].epoch + 1) {
      return refuse(detail, Error::malformed,
                    "epoch_keys: epochs must be consecutive and ascending (after " +
                        std::to_string(d.epoch_keys[i - 1].epoch) + " comes " +
                        std::to_string(d.epoch_keys[i].epoch) + ")");
    }
  }
  return Error::ok;
}

Result<std::string> sign_descriptor(const Descriptor& d, const crypto::IdentityKey& identity,
                                    std::string* detail) {
  if (Error e = check_descriptor(d, detail); e != Error::ok) return e;
  if (!(identity.public_key() == d.identity_key)) {
    return refuse(detail, Error::invalid_key,
                  "the signing key is not the descriptor's identity key");
  }
  const std::string body = body_json(d).dump();
  const auto sig = identity.sign(signed_json::signing_message(kDescriptorSigningPrefix, body));
  const nlohmann::ordered_json file = nlohmann::ordered_json::object(
      {{"format", kDescriptorFormat}, {"body", body}, {"signature", to_hex(sig)}});
  return file.dump(2) + "\n";
}

Result<Descriptor> verify_descriptor_object(const json& v, std::string* detail) {
  if (!v.is_object()) return refuse(detail, Error::malformed, "descriptor: not a JSON object");
  // The format names the layout, so it is checked before the field set.
  if (!v.contains("format") || !v.at("format").is_string()) {
    return refuse(detail, Error::malformed, "descriptor: missing \"format\"");
  }
  if (v.at("format").get<std::string>() != kDescriptorFormat) {
    return refuse(detail, Error::unknown_version,
                  "descriptor: format is not \"veil-descriptor/1\"");
  }
  if (Error e = signed_json::expect_fields(v, "descriptor", {"format", "body", "signature"}, detail);
      e != Error::ok) {
    return e;
  }
  auto body = signed_json::get_string(v, "descriptor", "body", detail);
  if (!body) return Error::malformed;
  auto sig = signed_json::get_hex(v, "descriptor", "signature", crypto::kIdentitySignatureSize, detail);
  if (!sig) return Error::malformed;
  auto d = parse_body(*body, detail);
  if (!d) return d.error();
  crypto::IdentitySignature signature{};
  std::copy(sig->begin(), sig->end(), signature.begin());
  if (!d->identity_key.verify(signed_json::signing_message(kDescriptorSigningPrefix, *body),
                              signature)) {
    return refuse(detail, Error::bad_signature,
                  "descriptor " + shown(d->name) + ": the signature does not verify under its identity key");
  }
  if (Error e = check_descriptor(*d, detail); e != Error::ok) {
    if (detail != nullptr) *detail = "descriptor " + shown(d->name) + ": " + *detail;
    return e;
  }
  return d;
}

Result<Descriptor> verify_descriptor(std::string_view text, std::string* detail) {
  if (text.size() > kMaxDescriptorBytes) {
    return refuse(detail, Error::too_large,
                  "descriptor: larger than " + std::to_string(kMaxDescriptorBytes) + " bytes");
  }
  std::string why;
  auto v = signed_json::parse(text, kMaxDepth, &why);
  if (!v) return refuse(detail, Error::malformed, "descriptor: " + why);
  return verify_descriptor_object(*v, detail);
}

Result<Descriptor> verify_descriptor(std::string_view text, const crypto::IdentityPublicKey& expected,
                                     std::string* detail) {
  auto d = verify_descriptor(text, detail);
  if (d && !(d->identity_key == expected)) {
    return refuse(detail, Error::invalid_key,
                  "descriptor " + shown(d->name) + ": signed by another identity key than expected");
  }
  return d;
}

}  // namespace veil::relay

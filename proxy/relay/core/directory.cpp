// The signed relay directory: building, counter-signing, reading and k-of-n verification.
#include "proxy/relay/core/directory.h"

#include <algorithm>
#include <map>
#include <set>

#include "proxy/relay/core/signed_json.h"

namespace veil::relay {
namespace {

using signed_json::json;
using signed_json::refuse;
using ojson = nlohmann::ordered_json;

constexpr std::size_t kMaxDepth = 4;

std::string shown(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

struct SignatureEntry {
  crypto::IdentityPublicKey key;
  crypto::IdentitySignature signature{};
};

// A directory file's outer object: the body string and the signature entries.
struct Envelope {
  std::string body;
  std::vector<SignatureEntry> signatures;
};

Result<Envelope> read_envelope(std::string_view text, std::string* detail) {
  if (text.size() > kMaxDirectoryBytes) {
    return refuse(detail, Error::too_large,
                  "directory: larger than " + std::to_string(kMaxDirectoryBytes) + " bytes");
  }
  std::string why;
  auto v = signed_json::parse(text, kMaxDepth, &why);
  if (!v) return refuse(detail, Error::malformed, "directory: " + why);
  if (!v->is_object()) return refuse(detail, Error::malformed, "directory: not a JSON object");
  if (!v->contains("format") || !v->at("format").is_string()) {
    return refuse(detail, Error::malformed, "directory: missing \"format\"");
  }
  if (v->at("format").get<std::string>() != kDirectoryFormat) {
    return refuse(detail, Error::unknown_version, "directory: format is not \"veil-directory/1\"");
  }
  if (Error e = signed_json::expect_fields(*v, "directory", {"format", "body", "signatures"}, detail);
      e != Error::ok) {
    return e;
  }
  Envelope env;
  auto body = signed_json::get_string(*v, "directory", "body", detail);
  if (!body) return Error::malformed;
  env.body = std::move(*body);
  const json& sigs = v->at("signatures");
  if (!sigs.is_array()) return refuse(detail, Error::malformed, "directory.signatures: not an array");
  if (sigs.size() > kMaxSignatures) {
    return refuse(detail, Error::too_large,
                  "directory.signatures: more than " + std::to_string(kMaxSignatures) + " entries");
  }
  for (const json& s : sigs) {
    if (Error e = signed_json::expect_fields(s, "directory.signatures[]", {"key", "signature"}, detail);
        e != Error::ok) {
      return e;
    }
    auto key = signed_json::get_hex(s, "directory.signatures[]", "key", crypto::kIdentityKeySize, detail);
    if (!key) return Error::malformed;
    auto sig = signed_json::get_hex(s, "directory.signatures[]", "signature",
                                    crypto::kIdentitySignatureSize, detail);
    if (!sig) return Error::malformed;
    SignatureEntry e;
    e.key = *crypto::IdentityPublicKey::parse(*key);
    std::copy(sig->begin(), sig->end(), e.signature.begin());
    env.signatures.push_back(e);
  }
  return env;
}

std::string write_envelope(const Envelope& env) {
  ojson sigs = ojson::array();
  for (const SignatureEntry& s : env.signatures) {
    sigs.push_back(ojson::object({{"key", to_hex(s.key.raw())}, {"signature", to_hex(s.signature)}}));
  }
  const ojson file = ojson::object(
      {{"format", kDirectoryFormat}, {"body", env.body}, {"signatures", std::move(sigs)}});
  return file.dump(2) + "\n";
}

Error check_time(int64_t t, std::string_view what, std::string* detail) {
  if (t < 0 || t > kMaxUnixS) {
    return refuse(detail, Error::invalid_argument,
                  "body." + std::string(what) + ": outside 0..9999-12-31");
  }
  return Error::ok;
}

// Every check of a directory that does not involve the authorities or the clock. `relays` are the
// descriptor objects of the body (each verified here under its own identity key).
Result<Directory> check_contents(Directory d, const json& relays, std::string* detail) {
  if (!valid_name(d.network)) {
    return refuse(detail, Error::malformed,
                  "body.network: must be 1..255 bytes of UTF-8 without control characters");
  }
  if (Error e = check_time(d.valid_after_unix_s, "valid_after", detail); e != Error::ok) return e;
  if (Error e = check_time(d.valid_until_unix_s, "valid_until", detail); e != Error::ok) return e;
  if (d.valid_until_unix_s <= d.valid_after_unix_s) {
    return refuse(detail, Error::malformed, "body.valid_until: not after valid_after");
  }
  if (validate(d.schedule) != Error::ok) {
    return refuse(detail, Error::invalid_argument,
                  "body.epoch_schedule: genesis must be within 0..9999-12-31 and length within "
                  "60..604800 seconds");
  }
  if (d.valid_until_unix_s <= d.schedule.genesis_unix_s) {
    return refuse(detail, Error::malformed,
                  "body.valid_until: at or before the schedule's genesis (no epoch is valid)");
  }
  d.first_epoch = d.valid_after_unix_s < d.schedule.genesis_unix_s
                      ? 0
                      : *epoch_at_s(d.schedule, d.valid_after_unix_s);
  d.last_epoch = *epoch_at_s(d.schedule, d.valid_until_unix_s - 1);

  if (!relays.is_array()) return refuse(detail, Error::malformed, "body.relays: not an array");
  if (relays.empty()) return refuse(detail, Error::malformed, "body.relays: no relays");
  if (relays.size() > kMaxRelays) {
    return refuse(detail, Error::too_large,
                  "body.relays: more than " + std::to_string(kMaxRelays) + " relays");
  }
  std::set<std::string> names;
  std::set<crypto::IdentityPublicKey> identities;
  std::map<std::string, std::string> addresses;  // canonical address -> relay name
  for (const json& r : relays) {
    std::string why;
    auto desc = verify_descriptor_object(r, &why);
    if (!desc) return refuse(detail, desc.error(), "body.relays: " + why);
    if (!names.insert(desc->name).second) {
      return refuse(detail, Error::duplicate_entry,
                    "body.relays: two relays are named " + shown(desc->name));
    }
    if (!identities.insert(desc->identity_key).second) {
      return refuse(detail, Error::duplicate_entry,
                    "body.relays: relay " + shown(desc->name) +
                        " has the identity key of another relay");
    }
    for (const std::string& a : desc->addresses) {
      const auto [it, fresh] = addresses.emplace(*canonical_address(a), desc->name);
      if (!fresh) {
        return refuse(detail, Error::duplicate_entry,
                      "body.relays: relays " + shown(it->second) + " and " + shown(desc->name) +
                          " share the address " + a);
      }
    }
    if (desc->epoch_key(d.first_epoch) == nullptr || desc->epoch_key(d.last_epoch) == nullptr) {
      return refuse(detail, Error::missing_epoch_keys,
                    "body.relays: relay " + shown(desc->name) + " has no keys for all epochs " +
                        std::to_string(d.first_epoch) + ".." + std::to_string(d.last_epoch));
    }
    d.relays.push_back(std::move(*desc));
  }
  return d;
}

Result<Directory> read_body(std::string_view body, std::string* detail) {
  std::string why;
  auto v = signed_json::parse(body, kMaxDepth, &why);
  if (!v) return refuse(detail, Error::malformed, "body: " + why);
  if (!v->is_object()) return refuse(detail, Error::malformed, "body: not a JSON object");
  if (!v->contains("version")) return refuse(detail, Error::malformed, "body: missing \"version\"");
  auto version = signed_json::get_uint(*v, "body", "version", UINT32_MAX, detail);
  if (!version) return Error::malformed;
  if (*version != kDirectoryVersion) {
    return refuse(detail, Error::unknown_version,
                  "body.version: " + std::to_string(*version) + " (this build reads 1)");
  }
  if (Error e = signed_json::expect_fields(*v, "body",
                                           {"version", "network", "serial", "valid_after",
                                            "valid_until", "epoch_schedule", "relays"},
                                           detail);
      e != Error::ok) {
    return e;
  }
  Directory d;
  d.version = static_cast<uint32_t>(*version);
  auto network = signed_json::get_string(*v, "body", "network", detail);
  if (!network) return Error::malformed;
  d.network = std::move(*network);
  auto serial = signed_json::get_uint(*v, "body", "serial", UINT64_MAX, detail);
  if (!serial) return Error::malformed;
  d.serial = *serial;
  // Times beyond kMaxUnixS are refused as invalid_argument by check_contents; INT64_MAX bounds
  // the conversion here.
  auto after = signed_json::get_uint(*v, "body", "valid_after", INT64_MAX, detail);
  if (!after) return Error::malformed;
  auto until = signed_json::get_uint(*v, "body", "valid_until", INT64_MAX, detail);
  if (!until) return Error::malformed;
  d.valid_after_unix_s = static_cast<int64_t>(*after);
  d.valid_until_unix_s = static_cast<int64_t>(*until);
  const json& sched = v->at("epoch_schedule");
  if (Error e = signed_json::expect_fields(sched, "body.epoch_schedule", {"genesis", "length"}, detail);
      e != Error::ok) {
    return e;
  }
  auto genesis = signed_json::get_uint(sched, "body.epoch_schedule", "genesis", INT64_MAX, detail);
  if (!genesis) return Error::malformed;
  auto length = signed_json::get_uint(sched, "body.epoch_schedule", "length", INT64_MAX, detail);
  if (!length) return Error::malformed;
  d.schedule = {static_cast<int64_t>(*genesis), static_cast<int64_t>(*length)};
  return check_contents(std::move(d), v->at("relays"), detail);
}

}  // namespace

const Descriptor* Directory::find(std::string_view name) const {
  for (const Descriptor& r : relays) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const Descriptor* Directory::find(const crypto::IdentityPublicKey& key) const {
  for (const Descriptor& r : relays) {
    if (r.identity_key == key) return &r;
  }
  return nullptr;
}

Result<std::string> create_directory(const DirectoryContents& c, const crypto::IdentityKey& authority,
                                     std::string* detail) {
  // Checked before the body is written: writing would replace bytes that are not UTF-8.
  if (!valid_name(c.network)) {
    return refuse(detail, Error::malformed,
                  "network: must be 1..255 bytes of UTF-8 without control characters");
  }
  if (c.descriptors.size() > kMaxRelays) {
    return refuse(detail, Error::too_large, "more than " + std::to_string(kMaxRelays) + " relays");
  }
  // Each descriptor enters the body as the object its file holds; its body string, the part its
  // signature covers, is carried unchanged.
  std::vector<std::pair<std::string, json>> relays;
  for (std::size_t i = 0; i < c.descriptors.size(); ++i) {
    std::string why;
    auto d = verify_descriptor(c.descriptors[i], &why);
    if (!d) return refuse(detail, d.error(), "descriptor " + std::to_string(i + 1) + ": " + why);
    auto v = signed_json::parse(c.descriptors[i], kMaxDepth, &why);
    relays.emplace_back(d->name, std::move(*v));
  }
  std::stable_sort(relays.begin(), relays.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ojson list = ojson::array();
  for (auto& r : relays) list.push_back(ojson(std::move(r.second)));
  if (c.valid_after_unix_s < 0 || c.valid_until_unix_s < 0 || c.schedule.genesis_unix_s < 0 ||
      c.schedule.length_s < 0) {
    return refuse(detail, Error::invalid_argument, "a time or length is negative");
  }
  const ojson body = ojson::object(
      {{"version", kDirectoryVersion},
       {"network", c.network},
       {"serial", c.serial},
       {"valid_after", c.valid_after_unix_s},
       {"valid_until", c.valid_until_unix_s},
       {"epoch_schedule",
        ojson::object({{"genesis", c.schedule.genesis_unix_s}, {"length", c.schedule.length_s}})},
       {"relays", std::move(list)}});
  Envelope env;
  env.body = body.dump(-1, ' ', false, ojson::error_handler_t::replace);
  env.signatures.push_back(
      {authority.public_key(),
       authority.sign(signed_json::signing_message(kDirectorySigningPrefix, env.body))});
  std::string text = write_envelope(env);
  auto check = read_directory(text, detail);
  if (!check) return check.error();
  return text;
}

Result<std::string> add_signature(std::string_view directory_text, const crypto::IdentityKey& authority,
                                  std::string* detail) {
  auto env = read_envelope(directory_text, detail);
  if (!env) return env.error();
  auto body = read_body(env->body, detail);
  if (!body) return body.error();
  for (const SignatureEntry& s : env->signatures) {
    if (s.key == authority.public_key()) {
      return refuse(detail, Error::duplicate_entry, "this authority key has already signed");
    }
  }
  if (env->signatures.size() >= kMaxSignatures) {
    return refuse(detail, Error::too_large,
                  "already " + std::to_string(kMaxSignatures) + " signatures");
  }
  env->signatures.push_back(
      {authority.public_key(),
       authority.sign(signed_json::signing_message(kDirectorySigningPrefix, env->body))});
  return write_envelope(*env);
}

Result<Directory> read_directory(std::string_view text, std::string* detail) {
  auto env = read_envelope(text, detail);
  if (!env) return env.error();
  auto d = read_body(env->body, detail);
  if (!d) return d.error();
  d->signature_entries = env->signatures.size();
  return d;
}

Result<Directory> verify_directory(std::string_view text,
                                   std::span<const crypto::IdentityPublicKey> authorities,
                                   std::size_t threshold, int64_t now_unix_s, std::string* detail) {
  const std::set<crypto::IdentityPublicKey> trusted(authorities.begin(), authorities.end());
  if (threshold < 1 || threshold > trusted.size()) {
    return refuse(detail, Error::invalid_argument,
                  "threshold " + std::to_string(threshold) + " with " +
                      std::to_string(trusted.size()) + " distinct authority keys");
  }
  auto env = read_envelope(text, detail);
  if (!env) return env.error();
  if (env->signatures.empty()) {
    return refuse(detail, Error::insufficient_signatures, "the directory is not signed");
  }
  const Bytes message = signed_json::signing_message(kDirectorySigningPrefix, env->body);
  std::set<crypto::IdentityPublicKey> counted;
  for (const SignatureEntry& s : env->signatures) {
    if (trusted.count(s.key) == 0 || counted.count(s.key) != 0) continue;
    if (s.key.verify(message, s.signature)) counted.insert(s.key);
  }
  if (counted.size() < threshold) {
    return refuse(detail, Error::insufficient_signatures,
                  std::to_string(counted.size()) + " valid signature" +
                      (counted.size() == 1 ? "" : "s") + " by listed authorities (of " +
                      std::to_string(env->signatures.size()) + " in the file); " +
                      std::to_string(threshold) + " needed");
  }
  auto d = read_body(env->body, detail);
  if (!d) return d.error();
  d->signature_entries = env->signatures.size();
  d->signed_by.assign(counted.begin(), counted.end());
  if (now_unix_s < d->valid_after_unix_s) {
    return refuse(detail, Error::not_yet_valid,
                  "valid from " + std::to_string(d->valid_after_unix_s) + ", now is " +
                      std::to_string(now_unix_s));
  }
  if (now_unix_s >= d->valid_until_unix_s) {
    return refuse(detail, Error::expired,
                  "valid until " + std::to_string(d->valid_until_unix_s) + ", now is " +
                      std::to_string(now_unix_s));
  }
  return d;
}

bool lists(const Directory& directory, std::string_view name, const crypto::IdentityPublicKey& identity) {
  const Descriptor* r = directory.find(name);
  return r != nullptr && r->identity_key == identity;
}

std::vector<std::string> dropped_relays(const Directory& older, const Directory& newer) {
  std::vector<std::string> out;
  for (const Descriptor& r : older.relays) {
    if (!newer.contains(r.name)) out.push_back(r.name);
  }
  return out;
}

}  // namespace veil::relay

// Relay descriptors: a relay's self-description (name, identity key, addresses, providers, epoch
// public keys) signed with its Ed25519 identity key (RFC 8032). Pure: no files, no clock.
// Format, exact signed bytes and every refusal: docs/directory.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.h"
#include "crypto/identity.h"
#include "crypto/keys.h"

namespace veil::relay {

inline constexpr std::string_view kDescriptorFormat = "veil-descriptor/1";  // the file's "format"
inline constexpr uint32_t kDescriptorVersion = 1;                          // the body's "version"
// The signature covers this prefix (19 bytes, ending in a NUL byte) followed by the body bytes.
inline constexpr std::string_view kDescriptorSigningPrefix{"veil-descriptor-v1\0", 19};

inline constexpr std::size_t kMaxDescriptorBytes = 64 * 1024;  // a whole descriptor file
inline constexpr std::size_t kMaxNameBytes = 255;               // relay, provider and network names
inline constexpr std::size_t kMaxAddresses = 8;
inline constexpr std::size_t kMaxProviders = 64;
inline constexpr std::size_t kMaxDescriptorEpochs = 256;
// Published times and directory validity times lie in 0..kMaxUnixS (9999-12-31T23:59:59Z).
inline constexpr int64_t kMaxUnixS = 253'402'300'799;

// One epoch's X25519 public key (the onion and pairwise layers of docs/packet-format.md).
struct EpochPublicKey {
  uint64_t epoch = 0;
  crypto::PublicKey key;
  bool operator==(const EpochPublicKey&) const = default;
};

struct Descriptor {
  uint32_t version = kDescriptorVersion;
  std::string name;                        // 1..255 bytes of UTF-8, no control characters
  crypto::IdentityPublicKey identity_key;  // signs this descriptor
  std::vector<std::string> addresses;      // "host:port" of the peer listener, 1..kMaxAddresses
  std::vector<std::string> providers;      // providers it delivers for; empty: a mix
  int64_t published_unix_s = 0;            // when the relay made it, 0..kMaxUnixS
  std::vector<EpochPublicKey> epoch_keys;  // 1..kMaxDescriptorEpochs, consecutive epochs ascending

  bool is_mix() const { return providers.empty(); }
  // The key for `epoch`, or nullptr when this descriptor carries none.
  const crypto::PublicKey* epoch_key(uint64_t epoch) const;
  bool operator==(const Descriptor&) const = default;
};

// A relay, provider or network name: 1..255 bytes of valid UTF-8 without control characters
// (U+0000..U+001F, U+007F). The relay config allows any 1..255 bytes; a name a descriptor can
// carry is also a valid config name.
bool valid_name(std::string_view name);

// ok, or why `d` cannot be signed or accepted (`detail`, when given, receives one line naming the
// field): `unknown_version` (version other than 1), `malformed` (a name, address or provider that
// breaks its rule; a provider listed twice; epoch keys not consecutive ascending), `too_large`
// (more addresses, providers or epoch keys than allowed), `duplicate_entry` (an address listed
// twice), `invalid_argument` (published time outside 0..kMaxUnixS).
// Addresses are "a.b.c.d:port" or "[v6]:port" with numeric hosts and a port of 1..65535.
Error check_descriptor(const Descriptor& d, std::string* detail = nullptr);

// The descriptor file of `d` signed by `identity`: the JSON object
//   {"format": "veil-descriptor/1", "body": "<body JSON text>", "signature": "<128 hex digits>"}
// (indented by 2, ending in a newline), where the signature is Ed25519 (RFC 8032) over
// kDescriptorSigningPrefix || the body string's bytes.
// Errors: those of check_descriptor, and `invalid_key` when identity's public key is not
// d.identity_key.
Result<std::string> sign_descriptor(const Descriptor& d, const crypto::IdentityKey& identity,
                                    std::string* detail = nullptr);

// Parses and verifies a descriptor file (or the same object inside a directory): the descriptor,
// whose signature verified under the identity key it names. Errors (`detail` gets one line):
// `too_large` (over kMaxDescriptorBytes, or a check_descriptor bound), `malformed` (not JSON, a
// duplicate JSON key, a missing, extra or mistyped field, bad hex, or a check_descriptor rule),
// `unknown_version` (format other than "veil-descriptor/1" or body version other than 1),
// `bad_signature` (the signature does not verify), `duplicate_entry`, `invalid_argument` as in
// check_descriptor.
Result<Descriptor> verify_descriptor(std::string_view text, std::string* detail = nullptr);
// As above, and also `invalid_key` when the descriptor's identity key is not `expected`.
Result<Descriptor> verify_descriptor(std::string_view text,
                                     const crypto::IdentityPublicKey& expected,
                                     std::string* detail = nullptr);

// As verify_descriptor(text), for a descriptor object already parsed (an entry of a directory's
// "relays"); the size bound is the caller's.
Result<Descriptor> verify_descriptor_object(const nlohmann::json& object, std::string* detail = nullptr);

// The address `text` ("a.b.c.d:port" or "[v6]:port") in one spelling per address (IPv6 as
// inet_ntop writes it), so that two spellings of one address compare equal; nullopt (and *why)
// when it is not a numeric address with a port of 1..65535.
std::optional<std::string> canonical_address(std::string_view text, std::string* why = nullptr);

}  // namespace veil::relay

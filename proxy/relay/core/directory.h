// The signed relay directory: network, serial, validity, epoch schedule and the relays' signed
// descriptors, signed by one or more directory authorities' Ed25519 keys (RFC 8032) and accepted
// with k of n of them. Pure: no files, no clock (times are passed in). Format, exact signed bytes
// and every refusal: docs/directory.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "crypto/identity.h"
#include "proxy/relay/core/descriptor.h"
#include "proxy/relay/core/epoch_schedule.h"

namespace veil::relay {

inline constexpr std::string_view kDirectoryFormat = "veil-directory/1";  // the file's "format"
inline constexpr uint32_t kDirectoryVersion = 1;                         // the body's "version"
// Each authority signs this prefix (18 bytes, ending in a NUL byte) followed by the body bytes.
inline constexpr std::string_view kDirectorySigningPrefix{"veil-directory-v1\0", 18};

inline constexpr std::size_t kMaxDirectoryBytes = 16u << 20;  // a whole directory file
inline constexpr std::size_t kMaxRelays = 1000;
inline constexpr std::size_t kMaxSignatures = 16;  // signature entries in one directory file

// What an authority puts into a new directory.
struct DirectoryContents {
  std::string network;            // 1..255 bytes of UTF-8, no control characters (valid_name)
  uint64_t serial = 0;            // larger in every newer directory of the network
  int64_t valid_after_unix_s = 0;  // first second of validity (inclusive)
  int64_t valid_until_unix_s = 0;  // end of validity (exclusive), after valid_after
  EpochSchedule schedule;
  std::vector<std::string> descriptors;  // descriptor files (sign_descriptor), 1..kMaxRelays
};

// A directory that parsed and passed every check asked for.
struct Directory {
  uint32_t version = kDirectoryVersion;
  std::string network;
  uint64_t serial = 0;
  int64_t valid_after_unix_s = 0;
  int64_t valid_until_unix_s = 0;
  EpochSchedule schedule;
  std::vector<Descriptor> relays;  // in the order of the file (create_directory sorts by name)
  // The epochs that overlap [valid_after, valid_until): every relay carries a key for each.
  uint64_t first_epoch = 0;
  uint64_t last_epoch = 0;  // inclusive
  std::size_t signature_entries = 0;  // entries in "signatures", counted or not
  // The listed authorities whose signatures verified, each once (verify_directory only).
  std::vector<crypto::IdentityPublicKey> signed_by;

  // The relay named `name` / holding identity key `key`, or nullptr.
  const Descriptor* find(std::string_view name) const;
  const Descriptor* find(const crypto::IdentityPublicKey& key) const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }
};

// A new directory file holding `contents`, signed by `authority`: the JSON object
//   {"format": "veil-directory/1", "body": "<body JSON text>",
//    "signatures": [{"key": "<64 hex>", "signature": "<128 hex>"}]}
// (indented by 2, ending in a newline); each signature is Ed25519 over kDirectorySigningPrefix ||
// the body string's bytes. The descriptors are sorted by relay name. Refuses (`detail` gets one
// line) exactly what read_directory refuses of the result.
Result<std::string> create_directory(const DirectoryContents& contents,
                                     const crypto::IdentityKey& authority,
                                     std::string* detail = nullptr);

// `directory_text` with `authority`'s signature added and the body bytes unchanged. Checks the
// body first as read_directory does (the existing signatures and the time are not checked);
// also `duplicate_entry` when `authority` already signed and `too_large` at kMaxSignatures.
Result<std::string> add_signature(std::string_view directory_text,
                                  const crypto::IdentityKey& authority,
                                  std::string* detail = nullptr);

// Parses a directory file and checks its body, without looking at signatures or the time (for
// authorities before they sign, and for tools that show a directory). Refusals:
//   too_large        the file exceeds kMaxDirectoryBytes, more than kMaxSignatures signature
//                    entries or kMaxRelays relays, or a descriptor bound (verify_descriptor)
//   malformed        not JSON, a duplicate JSON key, a missing, extra or mistyped field, bad hex,
//                    a network name that breaks valid_name, valid_until not after valid_after, no
//                    relays, valid_until at or before genesis, or a descriptor rule
//   unknown_version  format other than "veil-directory/1", body version other than 1, or a
//                    descriptor's format or version
//   invalid_argument an epoch schedule that fails validate(), a time outside 0..kMaxUnixS
//   bad_signature    a descriptor whose signature does not verify under its own identity key
//   duplicate_entry  two relays with one name, one identity key or one address (compared in
//                    canonical_address form), or one address listed twice by a relay
//   missing_epoch_keys a relay without a key for some epoch in first_epoch..last_epoch
Result<Directory> read_directory(std::string_view text, std::string* detail = nullptr);

// read_directory, then the signatures and the time. `authorities` are the directory authority
// keys this caller trusts (a key listed twice counts once); `threshold` is k, 1..their number
// (else `invalid_argument`). A signature counts when its key is one of `authorities` and it
// verifies over the exact body bytes; signatures under unknown keys, failing signatures and
// repeats by one authority do not count. Refusals besides read_directory's:
//   insufficient_signatures  no signatures at all, or fewer than `threshold` that count
//   not_yet_valid            now_unix_s < valid_after
//   expired                  now_unix_s ≥ valid_until
// Signatures are checked before the body is parsed; the time last.
Result<Directory> verify_directory(std::string_view text,
                                   std::span<const crypto::IdentityPublicKey> authorities,
                                   std::size_t threshold, int64_t now_unix_s,
                                   std::string* detail = nullptr);

// True when `directory` lists a relay named `name` whose identity key is `identity` (a relay
// refuses a directory that drops it or lists its name under another key).
bool lists(const Directory& directory, std::string_view name,
           const crypto::IdentityPublicKey& identity);

// Names of the relays `older` lists and `newer` does not, in `older`'s order.
std::vector<std::string> dropped_relays(const Directory& older, const Directory& newer);

}  // namespace veil::relay

// A relay's key directory: its Ed25519 identity seed, its name and one X25519 private key per
// epoch, in owner-only files. Layout (version 1) and refusals: docs/directory.md.
//
//   DIR/                 0700, owned by the user running the relay
//     format             "veil-relay-keys/1\n"
//     name               the relay name and a newline
//     identity.seed      32 bytes: the Ed25519 seed (RFC 8032 private key)
//     epochs/            0700
//       <N>.priv         32 bytes: epoch N's X25519 private key (as `veil keygen` writes one)
//
// Every file is created 0600 and every directory 0700. Every function checks the directory, the
// files it reads and the epochs/ directory before using them: a directory or file that is not
// owned by the effective user, or whose mode gives group or others any access, is refused with
// `insecure_permissions` (mode bits are inspected, so the check holds for root too); a symbolic
// link where a file or directory belongs is refused as `io_error`. On any refusal `detail`, when
// given, receives one line naming the path, e.g.
//   "relay key directory /k: must be accessible by its owner only (chmod 700); it is 0750".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/rng.h"
#include "crypto/identity.h"
#include "crypto/keys.h"
#include "proxy/relay/core/epoch_keys.h"

namespace veil::relay {

inline constexpr std::string_view kRelayKeysFormat = "veil-relay-keys/1";
// Most epoch keys ensure_epoch_keys makes in one call.
inline constexpr uint64_t kMaxEpochKeysPerCall = 4096;

// Creates the key directory `dir` (mode 0700; its parent must exist) or takes an empty existing
// one, and writes the name, a fresh identity seed from `rng`, an empty epochs/ and, last, the
// format file. Errors: `malformed` (the name breaks valid_name), `already_exists` (`dir` is not
// empty: it may already hold keys), `insecure_permissions`, `io_error`. Epoch keys are made later
// (load_or_create_epoch_key), once the epoch schedule is known.
Error init_relay_keys(const std::string& dir, std::string_view name, Rng& rng,
                      std::string* detail = nullptr);

struct RelayIdentity {
  std::string name;
  crypto::IdentityKey key;
};

// The relay's name and identity key. Errors: `io_error` (a file is missing, unreadable or not a
// regular file), `unknown_version` (the format file names another layout), `malformed` (a name
// that breaks valid_name, a seed that is not 32 bytes), `insecure_permissions`.
Result<RelayIdentity> load_relay_identity(const std::string& dir, std::string* detail = nullptr);

// Epoch `epoch`'s key pair from epochs/<epoch>.priv; errors as load_relay_identity (`io_error`
// when the key does not exist).
Result<crypto::KeyPair> load_epoch_key(const std::string& dir, uint64_t epoch,
                                       std::string* detail = nullptr);

// As load_epoch_key, but a missing key is generated from `rng` and written first. An existing key
// is never replaced (written to a temporary file, then linked into place).
Result<crypto::KeyPair> load_or_create_epoch_key(const std::string& dir, uint64_t epoch, Rng& rng,
                                                 std::string* detail = nullptr);

// Writes `key` as epoch `epoch`'s key (simulations that must know a relay's key in advance);
// `already_exists` when that epoch has a key, otherwise errors as load_or_create_epoch_key.
Error store_epoch_key(const std::string& dir, uint64_t epoch, const crypto::PrivateKey& key,
                      std::string* detail = nullptr);

// Makes sure keys exist for the epochs [from, to); `invalid_argument` when to < from or the range
// exceeds kMaxEpochKeysPerCall; otherwise errors as load_or_create_epoch_key.
Error ensure_epoch_keys(const std::string& dir, uint64_t from, uint64_t to, Rng& rng,
                        std::string* detail = nullptr);

// The epochs whose keys the directory holds, ascending (files epochs/<N>.priv, N in decimal
// without leading zeros; other names are ignored).
Result<std::vector<uint64_t>> list_epoch_keys(const std::string& dir, std::string* detail = nullptr);

// Deletes the keys of every epoch before `epoch`, each overwritten with zeros and synced before
// it is unlinked; the number of keys deleted. (Overwriting in place does not reach copies a
// journaling or copy-on-write file system keeps; docs/directory.md.)
Result<std::size_t> wipe_epoch_keys_before(const std::string& dir, uint64_t epoch,
                                           std::string* detail = nullptr);

// The relay's epoch keys as its key directory holds them: key(e) is load_epoch_key (nullopt when
// there is none or it cannot be read: the relay then has no key for that epoch), wipe_before is
// wipe_epoch_keys_before. The last refusal (one line) is kept for the caller to report.
class KeyDirEpochKeys final : public EpochKeySource {
 public:
  explicit KeyDirEpochKeys(std::string dir) : dir_(std::move(dir)) {}
  std::optional<crypto::KeyPair> key(uint64_t epoch) override;
  void wipe_before(uint64_t epoch) override;
  // The last refusal since the previous call, or empty.
  std::string take_problem() { return std::exchange(problem_, {}); }

 private:
  std::string dir_;
  std::string problem_;
};

}  // namespace veil::relay

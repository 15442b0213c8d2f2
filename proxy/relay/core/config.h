// veil-relay configuration: a TOML file naming this relay, its sockets, keys, mix, cover and peers.
// Every key is described once, in the field table of config_fields.cpp (docs/config.md is generated
// from it); building a RelayConfig is driven by that table and reports every problem at once.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

#include "crypto/identity.h"
#include "crypto/keys.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/endpoint.h"
#include "proxy/relay/core/epoch_keys.h"
#include "base/clock.h"
#include "proxy/relay/core/mix.h"

namespace veil::relay {

// One relay of the signed directory (its descriptor, docs/directory.md).
struct PeerConfig {
  std::string name;
  crypto::RelayId id{};
  std::string host;  // its first address
  uint16_t port = 0;
  crypto::IdentityPublicKey identity;                // proves it on TLS links
  std::map<uint64_t, crypto::PublicKey> epoch_keys;  // by epoch
  std::vector<std::string> providers;  // providers this relay delivers to (empty: a mix)
  bool is_mix() const { return providers.empty(); }
};

struct RecipientAccess {
  bool unrestricted = false;
  std::array<uint8_t, 16> access_key{};
};

struct CoverConfig {
  double drop_rate = 0;         // drop-cover packets per second (Poisson)
  double loop_rate = 0;         // loop-cover packets per second (Poisson)
  Micros loop_timeout = 10'000'000;
  double alarm_loss = 0.2;      // loop loss ratio that raises the n-1 alarm
  Micros alarm_latency = 5'000'000;  // loop p99 latency that raises the alarm
};

// What one connection or one party may hold or send (docs/security.md "Limits"). A connection that
// breaks one is closed and counted; nobody else's messages are touched.
struct LimitsConfig {
  std::size_t peer_connections = 512;  // inbound peer connections not yet identified, at once
  std::size_t peer_connections_per_source = 16;  // of those, from one source address
  std::size_t submit_connections = 256;         // submit connections open at once
  Micros frame_timeout = 30'000'000;  // a frame begun and not finished, or an inbound peer
                                      // connection not identified, for this long
  std::size_t unread_bytes = 16u << 20;  // held for a connection whose peer does not read
  double submit_rate = 0;                // submissions/s per destination relay; 0: no limit
  std::size_t submit_burst = 1000;       // what a destination relay's bucket holds
};

struct RelayConfig {
  std::string name;
  crypto::RelayId id{};
  std::string provider;  // the provider this relay serves; empty for a mix hop
  Endpoint peer_listen;
  Endpoint submit_listen;
  Endpoint deliver_to;   // the messenger server's deliver endpoint (providers only)
  Endpoint admin_listen{"127.0.0.1", 7402, {}};  // the admin endpoint (HTTP)
  std::string key_dir;         // identity and epoch keys (docs/directory.md)
  std::string directory_file;  // the signed directory
  std::vector<crypto::IdentityPublicKey> directory_authorities;
  std::size_t directory_threshold = 0;  // 0: a majority of directory_authorities
  Micros epoch_overlap = 600'000'000;
  Micros link_handshake_timeout = 10'000'000;
  bool plain_links = false;  // explicit: peer links without TLS
  // From the directory (attach_directory), not from the TOML text: the epoch schedule (length 0:
  // the one fixed epoch `epoch`, as in-process worlds without a schedule use) and every relay.
  uint64_t epoch = 0;
  EpochTiming epoch_timing;
  std::size_t packet_size = 4096;
  int64_t timestamp_quantum_ms = 3'600'000;
  std::size_t mix_hops = 0;  // mix relays between this provider and the destination's relay
  MixConfig mix;
  CoverConfig cover;
  std::size_t per_peer_queue = 50'000;
  LimitsConfig limits;
  // submit_listen and deliver_to may be non-loopback TCP (a messenger server on another host,
  // unencrypted on that network); otherwise only a Unix socket or loopback TCP is taken.
  bool allow_remote_messenger = false;
  bool allow_remote_admin = false;  // admin_listen may be a non-loopback TCP address
  unsigned unix_socket_mode = 0660;  // Unix sockets the relay listens on
  unsigned crypto_workers = 0;  // threads that unwrap and seal; 0 = the CPUs the relay may run on
  std::size_t max_replay_entries = 10'000'000;  // per epoch; about 31 B each (~300 MB when full)
  Micros deliver_retry = 2'000'000;
  std::map<std::string, RecipientAccess> recipients;  // service id -> access
  std::vector<PeerConfig> directory;  // from directory_file (attach_directory)
  std::string network;                // the directory's network name
  uint64_t directory_serial = 0;
  int64_t directory_valid_until = 0;  // unix s: the directory's end of validity (0: none)
  std::string journal_dir;           // empty only with run_without_journal
  bool run_without_journal = false;  // explicit: a crash loses what was accepted
  Micros journal_commit_window = 0;
  Micros drain_timeout = 30'000'000;
  std::string metrics_file;
  Micros metrics_interval = 1'000'000;
  std::string log_level = "info";  // debug, info, warn or error
};

// The relay id of a name: SHA-256(name)[0..16).
crypto::RelayId relay_id(const std::string& name);

// Every problem found in a config, one line each: "<key path>: <what is wrong>", e.g.
// "mix.stratgy: unknown key" or "directory_authorities[1]: not an Ed25519 public key (expected 64
// hex digits)" (array indices count from 0).
struct ConfigProblems {
  std::vector<std::string> problems;
};

// Either a complete, validated config or the problems that stop it; never both.
using ConfigResult = std::variant<RelayConfig, ConfigProblems>;

// Parses TOML text and checks every key against the field table: syntax, unknown keys, types,
// ranges, required keys, endpoints, keys and recipients, mix parameters (validate_mix), that
// journal_dir is an owner-only directory or can be created (relative paths: from the working
// directory), and then the directory (attach_directory, at `now_unix_s`). All problems are
// collected; none stops the others from being reported, except a TOML syntax error (reported
// alone, with line and column). Each problem is one printable line of UTF-8: control characters,
// and bytes above 0x7f in a line that is not UTF-8, appear as \xNN.
ConfigResult build_config(const std::string& toml_text, int64_t now_unix_s);

// A reload (SIGHUP) of a relay running with `running` (directory serial and epoch schedule
// included): build_config of the new text, refused whole (every problem listed) also when its
// directory is older than the running one ("directory_file: serial N is older than the running
// directory's M"), has another epoch schedule ("directory_file: another epoch schedule: needs a
// restart"), or when it changes name, provider, key_dir or directory_file ("key_dir: changed:
// needs a restart"): the directory is judged against those, and the running relay keeps its own.
ConfigResult check_reload(const std::string& toml_text, int64_t now_unix_s, const RelayConfig& running);

// build_config, but throws std::runtime_error whose message is every problem, one per line.
RelayConfig parse_config(const std::string& toml_text, int64_t now_unix_s);
// parse_config of the file at `path`; an unreadable file is a runtime_error too.
RelayConfig load_config(const std::string& path, int64_t now_unix_s);

// Every problem of the config file at `path` at `now_unix_s` (empty: the file is a valid config,
// directory included). veil-relay --check prints these.
std::vector<std::string> check_config_file(const std::string& path, int64_t now_unix_s);

// The signatures a directory needs: directory_threshold, or a majority of the authorities.
std::size_t effective_threshold(const RelayConfig& c);

// Reads key_dir's identity and the file directory_file names, and applies it (apply_directory).
std::vector<std::string> attach_directory(RelayConfig& c, int64_t now_unix_s);

// Verifies the signed directory `text` (docs/directory.md) under directory_authorities and
// effective_threshold at `now_unix_s`; checks that it lists this relay by name with key_dir's
// identity key, in its role (its provider among the descriptor's providers; none for a mix), with
// the epoch key key_dir holds for the current epoch; that epoch_overlap is at most half an epoch;
// and that a mix is listed if mix_hops > 0. Then fills directory, epoch_timing, epoch, network and
// directory_serial. Problems, one line each ("directory_file: expired: ...", "key_dir: ..."),
// leave `c` unchanged; empty: applied.
std::vector<std::string> apply_directory(RelayConfig& c, const std::string& text,
                                         int64_t now_unix_s);

// One key of the config as the field table describes it (one row of docs/config.md).
struct ConfigKey {
  std::string path;           // "mix.threshold"
  std::string type;           // "string", "integer", "number" (integer or float), "endpoint", ...
  std::string unit;           // "ms", "bytes", "packets/s", ... or empty
  std::string default_value;  // as TOML would spell it ("4096", "\"poisson\""), or "required"
  std::string range;          // "512..65536", "> 0, ≤ 86400000", the strategy names, ...
  std::string description;    // one line
};

// Every key of the field table, in table order.
std::vector<ConfigKey> config_reference();

// The reference table of every config key (key, type, unit, default, range, description) as
// Markdown, exactly as docs/config.md carries it.
std::string config_reference_markdown();

// `config` (a JSON object as the simulation builds relay configs) written as TOML text. JSON
// integers stay integers and JSON floats stay floats; arrays of objects become arrays of tables.
// Throws std::invalid_argument on what TOML cannot express: null, a non-object top level, or an
// integer above INT64_MAX.
std::string toml_from_json(const nlohmann::json& config);

}  // namespace veil::relay

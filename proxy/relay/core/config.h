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

#include "crypto/keys.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/endpoint.h"
#include "proxy/relay/core/epoch_keys.h"
#include "base/clock.h"
#include "proxy/relay/core/mix.h"

namespace veil::relay {

struct PeerConfig {
  std::string name;
  crypto::RelayId id{};
  std::string host;
  uint16_t port = 0;
  crypto::PublicKey epoch_key;  // the static directory's one key, for `epoch`
  std::map<uint64_t, crypto::PublicKey> epoch_keys;  // by epoch; empty: {epoch: epoch_key}
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

struct RelayConfig {
  std::string name;
  crypto::RelayId id{};
  std::string provider;  // the provider this relay serves; empty for a mix hop
  Endpoint peer_listen;
  Endpoint submit_listen;
  Endpoint deliver_to;   // the messenger server's deliver endpoint (providers only)
  std::string epoch_key_file;
  uint64_t epoch = 0;
  // The epoch schedule (length 0: the fixed epoch `epoch`, as the static directory has it).
  EpochTiming epoch_timing;
  std::size_t packet_size = 4096;
  int64_t timestamp_quantum_ms = 3'600'000;
  std::size_t mix_hops = 0;  // mix relays between this provider and the destination's relay
  MixConfig mix;
  CoverConfig cover;
  std::size_t per_peer_queue = 50'000;
  unsigned crypto_workers = 0;  // threads that unwrap and seal; 0 = the CPUs the relay may run on
  std::size_t max_replay_entries = 10'000'000;  // per epoch; about 31 B each (~300 MB when full)
  Micros deliver_retry = 2'000'000;
  std::map<std::string, RecipientAccess> recipients;  // service id -> access
  std::vector<PeerConfig> directory;
  std::string journal_dir;           // empty only with run_without_journal
  bool run_without_journal = false;  // explicit: a crash loses what was accepted
  Micros journal_commit_window = 0;
  Micros drain_timeout = 30'000'000;
  std::string metrics_file;
  Micros metrics_interval = 1'000'000;
};

// The relay id of a name: SHA-256(name)[0..16).
crypto::RelayId relay_id(const std::string& name);

// Every problem found in a config, one line each: "<key path>: <what is wrong>", e.g.
// "mix.stratgy: unknown key" or "directory[1].epoch_key: not hex" (array indices count from 0).
struct ConfigProblems {
  std::vector<std::string> problems;
};

// Either a complete, validated config or the problems that stop it; never both.
using ConfigResult = std::variant<RelayConfig, ConfigProblems>;

// Parses TOML text and checks every key against the field table: syntax, unknown keys, types,
// ranges, required keys, endpoints, keys and recipients, mix parameters (validate_mix), that
// epoch_key_file can be read and holds a 32-byte private key, and that journal_dir is an
// owner-only directory or can be created (relative paths: from the working directory). All problems are collected; none stops the others from being reported, except a
// TOML syntax error (reported alone, with line and column).
ConfigResult build_config(const std::string& toml_text);

// build_config, but throws std::runtime_error whose message is every problem, one per line.
RelayConfig parse_config(const std::string& toml_text);
// parse_config of the file at `path`; an unreadable file is a runtime_error too.
RelayConfig load_config(const std::string& path);

// Every problem of the config file at `path` (empty: the file is a valid config). veil-relay
// --check prints these.
std::vector<std::string> check_config_file(const std::string& path);

// One key of the config as the field table describes it (one row of docs/config.md).
struct ConfigKey {
  std::string path;           // "mix.threshold"; keys of a directory entry: "directory[].address"
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

// veil-relay configuration: a JSON file naming this relay, its sockets, keys, mix, cover and peers.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/endpoint.h"
#include "base/clock.h"
#include "proxy/relay/core/mix.h"

namespace veil::relay {

struct PeerConfig {
  std::string name;
  crypto::RelayId id{};
  std::string host;
  uint16_t port = 0;
  crypto::PublicKey epoch_key;
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
  std::string metrics_file;
  Micros metrics_interval = 1'000'000;
};

// The relay id of a name: SHA-256(name)[0..16).
crypto::RelayId relay_id(const std::string& name);

// Parses and validates; throws std::runtime_error with a message naming the bad field.
RelayConfig load_config(const std::string& path);
RelayConfig parse_config(const std::string& json_text);

}  // namespace veil::relay

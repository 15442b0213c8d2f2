// A simulated Veil deployment on loopback: relay configs, keys, and real veil-relay processes.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "base/rng.h"

namespace veil::sim {

struct RelayNode {
  std::string name;
  std::string provider;          // empty for a mix
  std::shared_ptr<crypto::KeyPair> epoch_key;
  uint16_t peer_port = 0;        // where it listens for peers
  uint16_t dial_port = 0;        // where other relays reach it (a tap in between, or peer_port)
  uint16_t submit_port = 0;      // providers
  uint16_t deliver_port = 0;     // providers: the messenger server's deliver endpoint
  nlohmann::json settings = nlohmann::json::object();  // merged over the generated config
  std::map<std::string, std::string> recipients;       // service id -> hex access key
};

// A node with fresh keys and free ports.
RelayNode make_node(const std::string& name, const std::string& provider, Rng& rng);

// The config of `self` within `all` as JSON (settings merge into it); RelayProcess writes it as
// TOML (relay::toml_from_json). Key files are written under `dir`.
nlohmann::json relay_config(const RelayNode& self, const std::vector<RelayNode>& all,
                            const std::filesystem::path& dir);

// The veil-relay binary next to this build (VEIL_RELAY_BIN overrides).
std::string relay_binary();

// One running veil-relay. SIGTERM and wait on destruction.
class RelayProcess {
 public:
  RelayProcess(const RelayNode& self, const std::vector<RelayNode>& all,
               const std::filesystem::path& dir);
  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  // Waits up to `timeout_ms` for the "ready" line; throws with the relay's stderr otherwise.
  void wait_ready(int timeout_ms = 10000);
  // The ready line wait_ready() saw (JSON: ports, journal, packets_recovered, ...); empty before.
  const std::string& ready_line() const { return ready_line_; }
  // The relay's latest metrics snapshot (written every 200 ms and at exit).
  nlohmann::json metrics() const;
  // Sends SIGTERM, waits for exit; returns the exit status.
  int stop();
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::filesystem::path metrics_path_;
  std::filesystem::path log_path_;
  std::string ready_line_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool exited_ = false;
};

}  // namespace veil::sim

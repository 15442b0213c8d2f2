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
  std::shared_ptr<crypto::KeyPair> epoch_key;  // its key for the epoch current when the
                                               // directory was written (write_directory)
  uint16_t peer_port = 0;        // where it listens for peers
  uint16_t dial_port = 0;        // where other relays reach it (a tap in between, or peer_port)
  uint16_t submit_port = 0;      // providers
  uint16_t deliver_port = 0;     // providers: the messenger server's deliver endpoint
  nlohmann::json settings = nlohmann::json::object();  // merged over the generated config
  std::map<std::string, std::string> recipients;       // service id -> hex access key
};

// A node with fresh keys and free ports.
RelayNode make_node(const std::string& name, const std::string& provider, Rng& rng);

// The signed directory of a simulated network: its epoch schedule, validity and authorities.
struct DirectoryOptions {
  int64_t genesis_unix_s = 0;     // 0: one minute before the directory is written
  int64_t epoch_length_s = 3600;  // 60 .. 604800
  int64_t valid_for_s = 86400;    // from one minute before the directory is written
  std::size_t authorities = 1;    // authority keys made; each signs
  std::size_t threshold = 1;      // signatures the relays require
};

// Makes the network's keys under `dir`: each relay's key directory (<name>.keys/: its identity,
// epoch_key as the current epoch's key and fresh keys for every other epoch of the validity) and
// the authorities' keys with the schedule and validity (network.json; a simulation keeps the
// authorities' seeds there); then writes the directory of `all` (directory.json). Throws
// std::runtime_error if a file cannot be made.
void write_directory(const std::vector<RelayNode>& all, const std::filesystem::path& dir,
                     const DirectoryOptions& options = {});

// The signed directory of `view` (each relay at its dial_port, as one relay sees the network)
// under the keys write_directory made in `dir`, as the text of a directory file.
std::string sign_directory(const std::vector<RelayNode>& view, const std::filesystem::path& dir,
                           uint64_t serial = 1);

// The config of `self` within `all` as JSON (settings merge into it); RelayProcess writes it as
// TOML (relay::toml_from_json). Makes the network's keys first (default options) unless `dir` has
// them, and writes the directory of `all` as `self` sees it (<name>.directory.json).
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
  // The relay's latest metrics snapshot (written every 200 ms and at exit); empty until this
  // process wrote its first one (a restarted relay does not show its predecessor's).
  nlohmann::json metrics() const;
  // Sends SIGTERM (unless begin_drain() did), waits for exit; returns the exit status.
  int stop();
  // Sends SIGTERM and returns at once: the relay drains (stop() then waits for the exit).
  void begin_drain();
  // Sends SIGKILL (a crash: nothing is drained or flushed) and reaps the process; returns the
  // wait status (0 if it had already exited).
  int kill();
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  // The "ready" line as printed (it reports packets_recovered and deliveries_recovered); empty
  // until wait_ready() returned.
  const std::string& ready_line() const { return ready_line_; }
  // The admin endpoint's port, from the ready line (0 before it).
  uint16_t admin_port() const;
  // Everything the relay printed on stdout after its ready line so far, e.g. {"event":"drained"};
  // complete once the process was stopped or killed.
  std::string output();

 private:
  std::string name_;
  std::filesystem::path metrics_path_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool exited_ = false;
  bool drain_sent_ = false;
  std::string ready_line_;
  std::string output_;
};

}  // namespace veil::sim

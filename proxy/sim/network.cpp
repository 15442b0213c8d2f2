// Relay config generation and process management for simulations.
#include "proxy/sim/network.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "proxy/relay/core/config.h"
#include "proxy/sim/socket.h"

extern char** environ;

namespace veil::sim {

RelayNode make_node(const std::string& name, const std::string& provider, Rng& rng) {
  RelayNode n;
  n.name = name;
  n.provider = provider;
  n.epoch_key = std::make_shared<crypto::KeyPair>(crypto::KeyPair::generate(rng));
  n.peer_port = free_port();
  n.dial_port = n.peer_port;
  if (!provider.empty()) {
    n.submit_port = free_port();
    n.deliver_port = free_port();
  }
  return n;
}

nlohmann::json relay_config(const RelayNode& self, const std::vector<RelayNode>& all,
                            const std::filesystem::path& dir) {
  const auto key_path = dir / (self.name + ".epoch.key");
  {
    std::ofstream k(key_path, std::ios::binary);
    const ByteView raw = self.epoch_key->priv.raw();
    k.write(reinterpret_cast<const char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  }
  ::chmod(key_path.c_str(), 0600);
  nlohmann::json j;
  j["name"] = self.name;
  if (!self.provider.empty()) {
    j["provider"] = self.provider;
    j["submit_listen"] = "127.0.0.1:" + std::to_string(self.submit_port);
    j["deliver_to"] = "127.0.0.1:" + std::to_string(self.deliver_port);
  }
  j["peer_listen"] = "127.0.0.1:" + std::to_string(self.peer_port);
  j["epoch_key_file"] = key_path.string();
  j["metrics_file"] = (dir / (self.name + ".metrics.json")).string();
  j["metrics_interval_ms"] = 200;
  j["recipients"] = nlohmann::json::object();
  for (const auto& [sid, key] : self.recipients) j["recipients"][sid] = key;
  j["directory"] = nlohmann::json::array();
  for (const RelayNode& n : all) {
    nlohmann::json e;
    e["name"] = n.name;
    e["address"] = "127.0.0.1:" + std::to_string(n.dial_port);
    e["epoch_key"] = to_hex(n.epoch_key->pub.serialize());
    if (!n.provider.empty()) e["providers"] = {n.provider};
    j["directory"].push_back(e);
  }
  j["journal_dir"] = (dir / (self.name + ".journal")).string();
  j["drain_timeout_ms"] = 3000;  // within RelayProcess::stop()'s patience
  j.merge_patch(self.settings);
  if (j.value("run_without_journal", false)) j.erase("journal_dir");
  return j;
}

std::string relay_binary() {
  if (const char* env = std::getenv("VEIL_RELAY_BIN")) return env;
  return VEIL_RELAY_BINARY;
}

RelayProcess::RelayProcess(const RelayNode& self, const std::vector<RelayNode>& all,
                           const std::filesystem::path& dir)
    : name_(self.name),
      metrics_path_(dir / (self.name + ".metrics.json")),
      log_path_(dir / (self.name + ".log")) {
  const auto config_path = dir / (self.name + ".toml");
  {
    std::ofstream c(config_path);
    c << relay::toml_from_json(relay_config(self, all, dir));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string bin = relay_binary();
  const std::string cfg = config_path.string();
  char* argv[] = {const_cast<char*>(bin.c_str()), const_cast<char*>("--config"),
                  const_cast<char*>(cfg.c_str()), nullptr};
  const int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  stdout_fd_ = out[0];
  if (rc != 0) {
    ::close(stdout_fd_);
    throw std::runtime_error("cannot start " + bin);
  }
}

RelayProcess::~RelayProcess() {
  stop();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void RelayProcess::wait_ready(int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char c;
      const ssize_t n = ::read(stdout_fd_, &c, 1);
      if (n <= 0) break;
      if (c == '\n') {
        if (line.find("\"ready\"") != std::string::npos) {
          ready_line_ = line;
          return;
        }
        line.clear();
      } else {
        line.push_back(c);
      }
    }
  }
  std::ifstream log(log_path_);
  std::stringstream ss;
  ss << log.rdbuf();
  throw std::runtime_error("relay " + name_ + " did not become ready: " + ss.str());
}

nlohmann::json RelayProcess::metrics() const {
  std::ifstream in(metrics_path_);
  if (!in) return nlohmann::json::object();
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

int RelayProcess::stop() {
  if (exited_ || pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {  // up to 10 s, then SIGKILL
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return status;
    }
    ::usleep(50'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  exited_ = true;
  return status;
}

}  // namespace veil::sim

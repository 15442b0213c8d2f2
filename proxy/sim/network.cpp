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
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "proxy/relay/core/config.h"
#include "proxy/relay/core/descriptor.h"
#include "proxy/relay/core/directory.h"
#include "proxy/relay/core/relay_keys.h"
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

namespace {

template <class T>
T must(Result<T> r, const std::string& what, const std::string& detail) {
  if (!r) throw std::runtime_error(what + ": " + std::string(error_name(r.error())) + ": " + detail);
  return std::move(*r);
}

void must(Error e, const std::string& what, const std::string& detail) {
  if (e != Error::ok) throw std::runtime_error(what + ": " + std::string(error_name(e)) + ": " + detail);
}

std::filesystem::path key_dir(const std::filesystem::path& dir, const std::string& name) {
  return dir / (name + ".keys");
}

}  // namespace

void write_directory(const std::vector<RelayNode>& all, const std::filesystem::path& dir,
                     const DirectoryOptions& o) {
  SystemRng rng;
  std::string why;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const relay::EpochSchedule schedule{o.genesis_unix_s != 0 ? o.genesis_unix_s : now - 60,
                                      o.epoch_length_s};
  const int64_t valid_after = now - 60;
  const int64_t valid_until = valid_after + o.valid_for_s;
  const auto epoch_of = [&](int64_t t) {
    return t < schedule.genesis_unix_s ? uint64_t{0}
                                       : static_cast<uint64_t>((t - schedule.genesis_unix_s) / schedule.length_s);
  };
  for (const RelayNode& n : all) {
    const std::string kd = key_dir(dir, n.name).string();
    std::filesystem::remove_all(kd);
    must(relay::init_relay_keys(kd, n.name, rng, &why), kd, why);
    must(relay::store_epoch_key(kd, epoch_of(now), n.epoch_key->priv, &why), kd, why);
    must(relay::ensure_epoch_keys(kd, epoch_of(valid_after), epoch_of(valid_until - 1) + 1, rng, &why), kd, why);
  }
  nlohmann::json net;
  net["genesis_unix_s"] = schedule.genesis_unix_s;
  net["epoch_length_s"] = schedule.length_s;
  net["valid_after_unix_s"] = valid_after;
  net["valid_until_unix_s"] = valid_until;
  net["threshold"] = o.threshold;
  net["authorities"] = nlohmann::json::array();
  for (std::size_t i = 0; i < std::max<std::size_t>(o.authorities, 1); ++i) {
    const crypto::IdentityKey k = crypto::IdentityKey::generate(rng);
    net["authorities"].push_back({{"key", to_hex(k.public_key().raw())}, {"seed", to_hex(k.seed())}});
  }
  std::ofstream(dir / "network.json") << net.dump(2) << "\n";
  std::ofstream(dir / "directory.json") << sign_directory(all, dir);
}

std::string sign_directory(const std::vector<RelayNode>& view, const std::filesystem::path& dir,
                           uint64_t serial) {
  std::string why;
  nlohmann::json net;
  std::ifstream(dir / "network.json") >> net;
  relay::DirectoryContents contents;
  contents.network = "veil-sim";
  contents.serial = serial;
  contents.valid_after_unix_s = net["valid_after_unix_s"];
  contents.valid_until_unix_s = net["valid_until_unix_s"];
  contents.schedule = relay::EpochSchedule{net["genesis_unix_s"], net["epoch_length_s"]};
  for (const RelayNode& n : view) {
    const std::string kd = key_dir(dir, n.name).string();
    relay::RelayIdentity id = must(relay::load_relay_identity(kd, &why), kd, why);
    relay::Descriptor d;
    d.name = n.name;
    d.identity_key = id.key.public_key();
    d.addresses = {"127.0.0.1:" + std::to_string(n.dial_port)};
    if (!n.provider.empty()) d.providers = {n.provider};
    d.published_unix_s = contents.valid_after_unix_s;
    for (uint64_t e : must(relay::list_epoch_keys(kd, &why), kd, why)) {
      d.epoch_keys.push_back({e, must(relay::load_epoch_key(kd, e, &why), kd, why).pub});
    }
    contents.descriptors.push_back(must(relay::sign_descriptor(d, id.key, &why), n.name, why));
  }
  std::string text;
  for (const auto& a : net["authorities"]) {
    const Bytes seed = *from_hex(a["seed"].get<std::string>());
    const crypto::IdentityKey k = must(crypto::IdentityKey::from_seed(seed), "authority", "");
    text = text.empty() ? must(relay::create_directory(contents, k, &why), "directory", why)
                        : must(relay::add_signature(text, k, &why), "directory", why);
  }
  return text;
}

nlohmann::json relay_config(const RelayNode& self, const std::vector<RelayNode>& all,
                            const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "network.json")) write_directory(all, dir);
  // Signed once, at the first start after the ports were picked (Deployment::prepare removes the
  // old one): a restarted relay keeps the directory it had, or a newer one published since, as a
  // relay of a real network does (re-signing now would need the epoch keys it has wiped).
  const auto directory_file = dir / (self.name + ".directory.json");
  if (!std::filesystem::exists(directory_file)) std::ofstream(directory_file) << sign_directory(all, dir);
  nlohmann::json net;
  std::ifstream(dir / "network.json") >> net;
  nlohmann::json j;
  j["name"] = self.name;
  if (!self.provider.empty()) {
    j["provider"] = self.provider;
    j["submit_listen"] = "127.0.0.1:" + std::to_string(self.submit_port);
    j["deliver_to"] = "127.0.0.1:" + std::to_string(self.deliver_port);
  }
  j["peer_listen"] = "127.0.0.1:" + std::to_string(self.peer_port);
  j["admin_listen"] = "127.0.0.1:0";  // the bound port is in the ready line
  j["key_dir"] = key_dir(dir, self.name).string();
  j["directory_file"] = directory_file.string();
  j["directory_authorities"] = nlohmann::json::array();
  for (const auto& a : net["authorities"]) j["directory_authorities"].push_back(a["key"]);
  j["directory_threshold"] = net["threshold"];
  j["metrics_file"] = (dir / (self.name + ".metrics.json")).string();
  j["metrics_interval_ms"] = 200;
  j["recipients"] = nlohmann::json::object();
  for (const auto& [sid, key] : self.recipients) j["recipients"][sid] = key;
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
  // A restarted relay must not show its predecessor's metrics until it wrote its own.
  std::error_code ignored;
  std::filesystem::remove(metrics_path_, ignored);
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

uint16_t RelayProcess::admin_port() const {
  if (ready_line_.empty()) return 0;
  return nlohmann::json::parse(ready_line_).value("admin_port", uint16_t{0});
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

void RelayProcess::begin_drain() {
  if (exited_ || pid_ <= 0 || drain_sent_) return;
  ::kill(pid_, SIGTERM);
  drain_sent_ = true;
}

int RelayProcess::stop() {
  if (exited_ || pid_ <= 0) return 0;
  begin_drain();  // once: a second SIGTERM would stop the relay at once
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

int RelayProcess::kill() {
  if (exited_ || pid_ <= 0) return 0;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exited_ = true;
  return status;
}

std::string RelayProcess::output() {
  if (stdout_fd_ < 0) return output_;
  char buf[4096];
  for (;;) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;  // EOF: the relay exited and everything it printed was read
    output_.append(buf, static_cast<std::size_t>(n));
  }
  return output_;
}

}  // namespace veil::sim

// Loopback deployments: relay processes, messenger stand-ins, taps, waits, metrics, watchdog.
#include "proxy/sim/deployment.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include "proxy/relay/core/config.h"
#include "proxy/sim/socket.h"

namespace veil::sim {

namespace {

// Relays running in this process, for the watchdog.
std::mutex g_pids_mu;
std::set<pid_t> g_pids;

void register_pid(pid_t p) {
  std::lock_guard<std::mutex> lock(g_pids_mu);
  g_pids.insert(p);
}

void unregister_pid(pid_t p) {
  std::lock_guard<std::mutex> lock(g_pids_mu);
  g_pids.erase(p);
}

uint64_t seed_or_random(const std::optional<uint64_t>& seed) {
  if (seed) return *seed;
  uint64_t s = 0;
  system_rng().fill({reinterpret_cast<uint8_t*>(&s), sizeof s});
  return s;
}

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

bool port_taken(const std::exception& e) {
  return std::string(e.what()).find("address already in use") != std::string::npos;
}

// The state letter of a process from /proc (R, S, T, Z, ...); '?' if unknown.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

}  // namespace

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool wait_until(Millis timeout, const std::function<bool()>& pred, Millis poll) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll);
  }
}

uint64_t counter(const nlohmann::json& metrics, const std::string& name) {
  auto c = metrics.find("counters");
  if (c == metrics.end()) return 0;
  auto v = c->find(name);
  if (v == c->end()) throw std::logic_error("no counter named " + name);
  return v->get<uint64_t>();
}

uint64_t counter(const RelayProcess& r, const std::string& name) { return counter(r.metrics(), name); }

uint64_t rejected(const RelayProcess& r, const std::string& reason) {
  const auto m = r.metrics();
  auto c = m.find("rejected_by_reason");
  if (c == m.end()) return 0;
  auto v = c->find(reason);
  return v == c->end() ? 0 : v->get<uint64_t>();
}

uint64_t wait_counter(const RelayProcess& r, const std::string& name, uint64_t at_least,
                      Millis timeout) {
  uint64_t v = 0;
  wait_until(timeout, [&] {
    v = counter(r, name);
    return v >= at_least;
  });
  return v;
}

uint64_t settled_counter(const RelayProcess& r, const std::string& name, Millis quiet,
                         Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  uint64_t last = counter(r, name);
  auto since = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(10));
    const uint64_t v = counter(r, name);
    if (v != last) {
      last = v;
      since = Clock::now();
    } else if (Clock::now() - since >= quiet) {
      break;
    }
  }
  return last;
}

Watchdog::Watchdog(int seconds) {
  thread_ = std::thread([this, seconds] {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) return;
    std::fprintf(stderr, "watchdog: test case exceeded %d s; killing its relays\n", seconds);
    {
      std::lock_guard<std::mutex> plock(g_pids_mu);
      for (pid_t p : g_pids) ::kill(p, SIGKILL);
    }
    std::fflush(nullptr);
    std::_Exit(3);
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

veil::relay::Submission v1_submission(const Account& from, const Account& to, ByteView content,
                                      Rng& rng, uint64_t request_id,
                                      const std::string& destination) {
  veil::relay::Submission s;
  s.set_request_id(request_id);
  s.set_destination(destination);
  auto* r = s.add_recipients();
  r->set_service_id(to.uuid);
  r->add_devices(to.device);
  s.set_access_key(to.access_key.data(), to.access_key.size());
  const Bytes env = seal_v1_to(from, to, content, rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

veil::relay::Submission v2_submission(const Account& from, const std::vector<const Account*>& to,
                                      ByteView content, Rng& rng, uint64_t request_id,
                                      const std::string& destination) {
  veil::relay::Submission s;
  s.set_request_id(request_id);
  s.set_destination(destination);
  const auto key = combined_access_key(to);
  s.set_access_key(key.data(), key.size());
  const Bytes env = seal_v2_to(from, to, content, rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

Deployment::Deployment(const Spec& spec, const std::string& tag)
    : rng(seed_or_random(spec.seed)),
      alpha(Provider::create(kAlphaProvider, spec.alpha_users, wall_ms() + 86'400'000, rng)),
      beta(Provider::create(kBetaProvider, spec.beta_users, wall_ms() + 86'400'000, rng)),
      await_links_(spec.await_links),
      keep_deliveries_(spec.keep_deliveries),
      tls_links_(!spec.plain_links),
      directory_options_(spec.directory),
      on_fault_(spec.on_fault),
      dir_(tag) {
  nodes_.push_back(make_node(kAlpha, kAlphaProvider, rng));
  for (std::size_t i = 1; i <= spec.mixes; ++i) {
    nodes_.push_back(make_node("mix-" + std::to_string(i), "", rng));
  }
  nodes_.push_back(make_node(kBeta, kBetaProvider, rng));
  for (auto& n : nodes_) {
    n.settings = {{"plain_links", spec.plain_links}};
    n.settings.merge_patch(spec.common);
    n.settings.merge_patch(n.name == kAlpha ? spec.alpha : n.name == kBeta ? spec.beta : spec.mix);
  }
  for (const auto& a : beta.accounts) node(kBeta).recipients[a.uuid] = to_hex(a.access_key);
  for (const auto& a : alpha.accounts) node(kAlpha).recipients[a.uuid] = to_hex(a.access_key);
  serve(kBeta);
  serve(kAlpha);
}

Deployment::~Deployment() { stop(); }

// The deliver port was picked by make_node and is bound here; one taken meanwhile by another
// process is replaced.
void Deployment::serve(const std::string& provider_relay) {
  Messenger& m = messenger(provider_relay);
  auto record = recorder(m);
  for (int attempt = 1;; ++attempt) {
    try {
      m.server = std::make_unique<DeliverServer>(node(provider_relay).deliver_port, record);
      return;
    } catch (const std::runtime_error&) {
      if (attempt >= 4) throw;
      node(provider_relay).deliver_port = free_port();
    }
  }
}

Deployment::Messenger& Deployment::messenger(const std::string& provider_relay) {
  if (provider_relay == kAlpha) return alpha_messenger_;
  if (provider_relay == kBeta) return beta_messenger_;
  throw std::logic_error(provider_relay + " has no messenger stand-in");
}

std::vector<std::string> Deployment::names() const {
  std::vector<std::string> v;
  for (const auto& n : nodes_) v.push_back(n.name);
  return v;
}

RelayNode& Deployment::node(const std::string& name) {
  return const_cast<RelayNode&>(std::as_const(*this).node(name));
}

const RelayNode& Deployment::node(const std::string& name) const {
  for (const auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::logic_error("no relay named " + name);
}

void Deployment::configure(const std::string& name, const nlohmann::json& settings) {
  node(name).settings.merge_patch(settings);
}

void Deployment::reload(const std::string& name, const nlohmann::json& settings, const std::string& raw_toml) {
  if (settings.is_object()) configure(name, settings);  // a null patch would erase every setting
  {
    std::ofstream c(dir_.path() / (name + ".toml"), std::ios::trunc);
    c << (raw_toml.empty() ? relay::toml_from_json(relay_config(node(name), view_of(name), dir_.path())) : raw_toml);
  }
  ::kill(relay(name).pid(), SIGHUP);
}

Tap& Deployment::tap(const std::string& from, const std::string& to, bool keep_bytes,
                     bool keep_streams) {
  if (prepared_) throw std::logic_error("Deployment::tap after start");
  node(from);
  node(to);
  // The target port is set when the relays' ports are picked (prepare()).
  auto& slot = taps_[{from, to}];
  slot = std::make_unique<Tap>(0, keep_bytes, keep_streams, tls_links_);
  return *slot;
}

Deployment::Links Deployment::tap_all(bool keep_bytes, bool keep_streams) {
  for (const auto& from : nodes_) {
    for (const auto& to : nodes_) {
      if (from.name != to.name) tap(from.name, to.name, keep_bytes, keep_streams);
    }
  }
  return links();
}

Tap* Deployment::link(const std::string& from, const std::string& to) const {
  auto it = taps_.find({from, to});
  return it == taps_.end() ? nullptr : it->second.get();
}

Deployment::Links Deployment::links() const {
  Links out;
  for (const auto& [ends, t] : taps_) out[ends] = t.get();
  return out;
}

void Deployment::prepare() {
  std::set<uint16_t> taken;
  for (const auto& n : nodes_) {
    if (n.deliver_port != 0) taken.insert(n.deliver_port);
  }
  auto fresh = [&taken] {
    for (;;) {
      const uint16_t p = free_port();
      if (taken.insert(p).second) return p;
    }
  };
  for (auto& n : nodes_) {
    n.peer_port = fresh();
    n.dial_port = n.peer_port;
    if (!n.provider.empty()) n.submit_port = fresh();
  }
  for (auto& [ends, t] : taps_) t->set_target(node(ends.second).peer_port);
  write_directory(nodes_, dir_.path(), directory_options_);
  for (const auto& n : nodes_) std::filesystem::remove(dir_.path() / (n.name + ".directory.json"));
  prepared_ = true;
}

void Deployment::publish_directory(uint64_t serial, bool tamper) {
  for (const auto& n : nodes_) {
    std::string text = sign_directory(view_of(n.name), dir_.path(), serial);
    if (tamper) {
      const auto at = text.find("veil-sim");
      if (at != std::string::npos) text[at] = 'w';
    }
    std::ofstream(dir_.path() / (n.name + ".directory.json")) << text;
  }
}

std::vector<RelayNode> Deployment::view_of(const std::string& name) const {
  std::vector<RelayNode> v = nodes_;
  for (auto& n : v) {
    const Tap* t = link(name, n.name);
    n.dial_port = t == nullptr ? n.peer_port : t->port();
  }
  return v;
}

void Deployment::launch(const std::string& name) {
  halt(name);
  auto r = std::make_unique<RelayProcess>(node(name), view_of(name), dir_.path());
  register_pid(r->pid());
  relays_[name] = std::move(r);
}

int Deployment::halt(const std::string& name) {
  auto it = relays_.find(name);
  if (it == relays_.end() || !it->second) return 0;
  const int status = it->second->stop();
  unregister_pid(it->second->pid());
  return status;
}

void Deployment::start_relays(const std::vector<std::string>& names) {
  if (stopped_) throw std::logic_error("Deployment::start after stop()");
  for (int attempt = 1;; ++attempt) {
    const bool may_retry = relays_.empty() && attempt < 4;
    if (!prepared_) prepare();
    try {
      for (const auto& n : names) launch(n);
      for (const auto& n : names) relays_.at(n)->wait_ready();
      return;
    } catch (const std::runtime_error& e) {
      if (!may_retry || !port_taken(e)) throw;
      std::fprintf(stderr, "deployment %s: a port was taken; retrying with fresh ports\n",
                   dir_.path().c_str());
      for (const auto& n : names) halt(n);
      relays_.clear();
      prepared_ = false;
    }
  }
}

void Deployment::start() {
  start_relays(names());
  if (await_links_) await_links();
}

void Deployment::start(const std::string& name) {
  node(name);
  start_relays({name});
}

// Every relay dials every other one; waits until all links are up and stay up for a moment.
void Deployment::await_links() {
  const uint64_t want = nodes_.size() - 1;
  auto links_up = [&] {
    for (const auto& n : nodes_) {
      if (counter(n.name, "peer_connects") < counter(n.name, "peer_disconnects") + want) return false;
    }
    return true;
  };
  if (!wait_until(Millis(10'000), links_up, Millis(20))) {
    std::string state;
    for (const auto& n : nodes_) {
      state += " " + n.name + " (process state " + process_state(relays_.at(n.name)->pid()) +
               "): connects " + std::to_string(counter(n.name, "peer_connects")) +
               ", disconnects " + std::to_string(counter(n.name, "peer_disconnects")) + ";";
    }
    throw std::runtime_error("peer links did not come up within 10 s:" + state + " (" +
                             dir_.path().string() + ")");
  }
  std::this_thread::sleep_for(Millis(250));
  if (!links_up()) throw std::runtime_error("peer links flapped after start");
}

int Deployment::stop(const std::string& name, bool expect_clean) {
  relay(name);
  const int status = halt(name);
  if (expect_clean && status != 0) fault("relay " + name + " " + exit_description(status));
  return status;
}

int Deployment::kill(const std::string& name) {
  RelayProcess& r = relay(name);
  const int status = r.kill();
  unregister_pid(r.pid());
  return status;
}

void Deployment::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const auto& [name, r] : relays_) stop(name);
  for (auto& [ends, t] : taps_) t->stop();
  for (Messenger* m : {&beta_messenger_, &alpha_messenger_}) {
    if (m->server) m->server->stop();
  }
}

void Deployment::expect_running() {
  for (const auto& [name, r] : relays_) {
    siginfo_t info{};
    // WNOWAIT: look without reaping (RelayProcess::stop reaps it later).
    if (::waitid(P_PID, static_cast<id_t>(r->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == r->pid()) {
      const int status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status & 0x7f;
      fault("relay " + name + " " + exit_description(status) + " while the test ran");
    }
  }
}

void Deployment::fault(const std::string& what) const {
  if (on_fault_) on_fault_(what);
}

RelayProcess& Deployment::relay(const std::string& name) {
  auto it = relays_.find(name);
  if (it == relays_.end()) throw std::logic_error("relay " + name + " was never started");
  return *it->second;
}

nlohmann::json Deployment::metrics(const std::string& relay) const {
  node(relay);
  auto it = relays_.find(relay);
  return it == relays_.end() ? nlohmann::json::object() : it->second->metrics();
}

uint64_t Deployment::counter(const std::string& relay, const std::string& name) const {
  return sim::counter(metrics(relay), name);
}

std::vector<Delivered> Deployment::alpha_deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return alpha_messenger_.received;
}

std::vector<Delivered> Deployment::beta_deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return beta_messenger_.received;
}

std::size_t Deployment::beta_delivery_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return beta_messenger_.count;
}

// What a messenger stand-in does with each delivery: counts it, keeps it (unless told not to) and
// hands it to the test's handler.
DeliverServer::Handler Deployment::recorder(Messenger& m) {
  return [this, &m](const veil::relay::Delivery& d) {
    DeliverServer::Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++m.count;
      if (keep_deliveries_) m.received.push_back({Clock::now(), d.SerializeAsString(), d});
      handler = m.handler;
    }
    if (handler) handler(d);
  };
}

void Deployment::take_messenger_down(const std::string& provider_relay) {
  Messenger& m = messenger(provider_relay);
  if (m.server) m.server->stop();
  m.server.reset();
}

void Deployment::bring_messenger_back(const std::string& provider_relay) {
  Messenger& m = messenger(provider_relay);
  if (m.server) return;
  auto record = recorder(m);
  m.server = std::make_unique<DeliverServer>(node(provider_relay).deliver_port, record);
}

void Deployment::on_delivery(const std::string& provider_relay, DeliverServer::Handler handler) {
  Messenger& m = messenger(provider_relay);
  std::lock_guard<std::mutex> lock(mu_);
  m.handler = std::move(handler);
}

}  // namespace veil::sim

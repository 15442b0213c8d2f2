// Privacy-suite harness: deployments, taps per link, submissions, peeling, watchdog.
#include "support.h"

#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>

namespace veil::privacy {

namespace {

// Relays started by the running test, for the watchdog.
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

}  // namespace

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

double secs(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

void report(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs("[privacy] ", stdout);
  std::vfprintf(stdout, fmt, ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  va_end(ap);
}

bool wait_until(Millis timeout, const std::function<bool()>& pred, Millis poll) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll);
  }
}

Watchdog::Watchdog(int seconds) {
  thread_ = std::thread([this, seconds] {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) return;
    std::fprintf(stderr, "[privacy] watchdog: test case exceeded %d s; killing its relays\n",
                 seconds);
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

Bytes packet_frame(uint64_t seq, ByteView packet) {
  Bytes b{kFramePacket};
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<uint8_t>(seq >> (8 * i)));
  append(b, packet);
  return b;
}

void set_recv_timeout(const sim::Socket& s, Millis timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

crypto::RelayId relay_id_of(const std::string& name) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const uint8_t*>(name.data()), name.size());
  crypto::RelayId id{};
  std::copy_n(h.begin(), id.size(), id.begin());
  return id;
}

Deployment::Deployment(const Spec& spec, const std::string& tag)
    : rng_(spec.seed),
      dir_(tag),
      alpha_(sim::Provider::create(kAlphaProvider, spec.alpha_users, wall_ms() + 86'400'000, rng_)),
      beta_(sim::Provider::create(kBetaProvider, spec.beta_users, wall_ms() + 86'400'000, rng_)) {
  nodes_.push_back(sim::make_node(kAlpha, kAlphaProvider, rng_));
  for (std::size_t i = 1; i <= spec.mixes; ++i) {
    nodes_.push_back(sim::make_node("mix-" + std::to_string(i), "", rng_));
  }
  nodes_.push_back(sim::make_node(kBeta, kBetaProvider, rng_));
  for (auto& n : nodes_) {
    n.settings = spec.common;
    if (n.name == kAlpha) n.settings.merge_patch(spec.alpha);
    else if (n.name == kBeta) n.settings.merge_patch(spec.beta);
    else n.settings.merge_patch(spec.mix);
  }
  for (const auto& a : beta_.accounts) mutable_node(kBeta).recipients[a.uuid] = to_hex(a.access_key);
  for (const auto& a : alpha_.accounts) mutable_node(kAlpha).recipients[a.uuid] = to_hex(a.access_key);
  auto collect = [this](std::vector<Delivered>& inbox) {
    return [this, &inbox](const veil::relay::Delivery& d) {
      Delivered x{Clock::now(), d.SerializeAsString(), d};
      std::lock_guard<std::mutex> lock(mu_);
      inbox.push_back(std::move(x));
    };
  };
  // The deliver ports are bound here; a port taken meanwhile (see start()) is replaced.
  auto serve = [&](const char* name, std::vector<Delivered>& inbox) {
    for (int attempt = 1;; ++attempt) {
      try {
        return std::make_unique<sim::DeliverServer>(node(name).deliver_port, collect(inbox));
      } catch (const std::runtime_error&) {
        if (attempt >= 4) throw;
        mutable_node(name).deliver_port = sim::free_port();
      }
    }
  };
  beta_server_ = serve(kBeta, beta_inbox_);
  alpha_server_ = serve(kAlpha, alpha_inbox_);
}

Deployment::~Deployment() { stop(); }

void Deployment::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& r : relays_) {
    r->stop();
    unregister_pid(r->pid());
  }
  for (auto& [k, t] : taps_) t->stop();
  if (beta_server_) beta_server_->stop();
  if (alpha_server_) alpha_server_->stop();
}

sim::RelayNode& Deployment::mutable_node(const std::string& name) {
  for (auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::logic_error("no relay named " + name);
}

const sim::RelayNode& Deployment::node(const std::string& name) const {
  for (const auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::logic_error("no relay named " + name);
}

std::vector<std::string> Deployment::names() const {
  std::vector<std::string> v;
  for (const auto& n : nodes_) v.push_back(n.name);
  return v;
}

sim::Tap& Deployment::tap(const std::string& from, const std::string& to, bool keep_bytes,
                          bool keep_streams) {
  auto t = std::make_unique<sim::Tap>(node(to).peer_port, keep_bytes, keep_streams);
  sim::Tap& ref = *t;
  taps_[{from, to}] = std::move(t);
  return ref;
}

void Deployment::tap_all(bool keep_bytes, bool keep_streams) {
  for (const auto& a : nodes_) {
    for (const auto& b : nodes_) {
      if (a.name != b.name) tap(a.name, b.name, keep_bytes, keep_streams);
    }
  }
}

sim::Tap* Deployment::link(const std::string& from, const std::string& to) const {
  auto it = taps_.find({from, to});
  return it == taps_.end() ? nullptr : it->second.get();
}

std::vector<std::pair<std::pair<std::string, std::string>, sim::Tap*>> Deployment::links() const {
  std::vector<std::pair<std::pair<std::string, std::string>, sim::Tap*>> v;
  for (const auto& [k, t] : taps_) v.emplace_back(k, t.get());
  return v;
}

std::vector<sim::RelayNode> Deployment::view_of(const std::string& name) const {
  std::vector<sim::RelayNode> v = nodes_;
  for (auto& n : v) {
    auto it = taps_.find({name, n.name});
    n.dial_port = it == taps_.end() ? n.peer_port : it->second->port();
  }
  return v;
}

// Ports come from sim::free_port(), which releases them until the relay binds: another process
// (or another deployment of this one) may take one meanwhile. Such a start fails with "address
// already in use" and is retried with fresh ports, a few times.
void Deployment::start() {
  for (int attempt = 1;; ++attempt) {
    try {
      spawn();
      return;
    } catch (const std::runtime_error& e) {
      if (attempt >= 4 || std::string(e.what()).find("already in use") == std::string::npos) throw;
      std::string why = e.what();
      while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
      report("start: %s; retrying with fresh ports", why.c_str());
      for (auto& r : relays_) {
        r->stop();
        unregister_pid(r->pid());
      }
      relays_.clear();
      for (auto& n : nodes_) {
        n.peer_port = sim::free_port();
        if (!n.provider.empty()) n.submit_port = sim::free_port();
      }
      for (auto& [ends, t] : taps_) t->set_target(node(ends.second).peer_port);
    }
  }
}

void Deployment::spawn() {
  for (const auto& n : nodes_) {
    relays_.push_back(std::make_unique<sim::RelayProcess>(n, view_of(n.name), dir_.path()));
    register_pid(relays_.back()->pid());
  }
  for (auto& r : relays_) r->wait_ready();
  // Every relay dials every other one; wait until all links are up and stay up for one snapshot.
  const uint64_t want = nodes_.size() - 1;
  auto links_up = [&] {
    for (const auto& n : nodes_) {
      const uint64_t c = counter(n.name, "peer_connects");
      const uint64_t d = counter(n.name, "peer_disconnects");
      if (c < d + want) return false;
    }
    return true;
  };
  const bool up = wait_until(Millis(10'000), links_up, Millis(20));
  if (!up) {
    std::string state;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto& n = nodes_[i];
      std::ifstream st("/proc/" + std::to_string(relays_[i]->pid()) + "/stat");
      std::string pid, comm, proc_state;
      st >> pid >> comm >> proc_state;
      state += " " + n.name + " (process state " + proc_state + "): connects " +
               std::to_string(counter(n.name, "peer_connects")) + ", disconnects " +
               std::to_string(counter(n.name, "peer_disconnects")) + ";";
    }
    throw std::runtime_error("peer links did not come up within 10 s:" + state + " (" +
                             dir_.path().string() + ")");
  }
  std::this_thread::sleep_for(Millis(250));
  if (!links_up()) throw std::runtime_error("peer links flapped after start");
}

nlohmann::json Deployment::metrics(const std::string& relay) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == relay) return i < relays_.size() ? relays_[i]->metrics() : nlohmann::json::object();
  }
  throw std::logic_error("no relay named " + relay);
}

uint64_t Deployment::counter(const std::string& relay, const std::string& name) const {
  const auto m = metrics(relay);
  auto c = m.find("counters");
  if (c == m.end() || !c->contains(name)) return 0;
  return (*c)[name].get<uint64_t>();
}

std::vector<Delivered> Deployment::beta_deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return beta_inbox_;
}

std::size_t Deployment::beta_delivery_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return beta_inbox_.size();
}

std::vector<Delivered> Deployment::alpha_deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return alpha_inbox_;
}

Peeled Deployment::peel(ByteView packet, const std::string& from, const std::string& to) const {
  Peeled out;
  const sim::RelayNode& first = node(to);
  Result<crypto::Unwrapped> layer = Error::decryption_failed;
  auto k = crypto::derive_pairwise_key(*first.epoch_key, node(from).epoch_key->pub, false, 0);
  if (k) layer = crypto::unwrap_pairwise(packet, *k);
  if (!layer) layer = crypto::unwrap_onion(packet, *first.epoch_key);
  if (!layer) return out;
  out.hops.push_back(first.name);
  while (layer->command == crypto::HopCommand::forward) {
    const sim::RelayNode* next = nullptr;
    for (const auto& n : nodes_) {
      if (relay_id_of(n.name) == layer->next_hop) next = &n;
    }
    if (next == nullptr) return out;
    Bytes inner = std::move(layer->inner);
    layer = crypto::unwrap_onion(inner, *next->epoch_key);
    if (!layer) return out;
    out.hops.push_back(next->name);
  }
  out.ok = true;
  out.command = layer->command;
  out.payload = std::move(layer->inner);
  if (out.command == crypto::HopCommand::deliver) {
    veil::relay::Payload p;
    if (p.ParseFromArray(out.payload.data(), static_cast<int>(out.payload.size())) &&
        p.has_bundle()) {
      out.envelope = p.bundle().envelope();
    }
  }
  return out;
}

veil::relay::Submission v1_submission(const sim::Account& from, const sim::Account& to,
                                      ByteView content, Rng& rng, uint64_t request_id) {
  veil::relay::Submission s;
  s.set_request_id(request_id);
  s.set_destination(kBetaProvider);
  auto* r = s.add_recipients();
  r->set_service_id(to.uuid);
  r->add_devices(to.device);
  s.set_access_key(to.access_key.data(), to.access_key.size());
  const Bytes env = sim::seal_v1_to(from, to, content, rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

veil::relay::Submission v2_submission(const sim::Account& from,
                                      const std::vector<const sim::Account*>& to, ByteView content,
                                      Rng& rng, uint64_t request_id) {
  veil::relay::Submission s;
  s.set_request_id(request_id);
  s.set_destination(kBetaProvider);
  const auto key = sim::combined_access_key(to);
  s.set_access_key(key.data(), key.size());
  const Bytes env = sim::seal_v2_to(from, to, content, rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

Submitter::Submitter(uint16_t port) : sock_(sim::Socket::connect_tcp(port)) {
  set_recv_timeout(sock_, Millis(10'000));
}

veil::relay::SubmitAnswer Submitter::submit(const veil::relay::Submission& s) {
  const std::string body = s.SerializeAsString();
  if (!sock_.send_frame(as_bytes(body))) throw std::runtime_error("submit: send failed");
  auto frame = sock_.recv_frame();
  if (!frame) throw std::runtime_error("submit: no answer");
  veil::relay::SubmitAnswer a;
  if (!a.ParseFromArray(frame->data(), static_cast<int>(frame->size()))) {
    throw std::runtime_error("submit: unparsable answer");
  }
  return a;
}

uint16_t Submitter::local_port() const {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(sock_.fd(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

}  // namespace veil::privacy

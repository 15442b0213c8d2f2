// Integration-test harness: deployment, messenger stand-ins, waits and metric readers.
#include "harness.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "crypto/sealed_sender.h"
#include "proxy/relay/core/framing.h"

namespace veil::it {

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool wait_until(Millis timeout, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(5ms);
  }
}

uint64_t counter(const sim::RelayProcess& r, const std::string& name) {
  const auto m = r.metrics();
  auto c = m.find("counters");
  if (c == m.end()) return 0;
  auto v = c->find(name);
  if (v == c->end()) throw std::logic_error("no counter named " + name);
  return v->get<uint64_t>();
}

uint64_t rejected(const sim::RelayProcess& r, const std::string& reason) {
  const auto m = r.metrics();
  auto c = m.find("rejected_by_reason");
  if (c == m.end()) return 0;
  auto v = c->find(reason);
  return v == c->end() ? 0 : v->get<uint64_t>();
}

uint64_t wait_counter(const sim::RelayProcess& r, const std::string& name, uint64_t at_least,
                      Millis timeout) {
  uint64_t v = 0;
  wait_until(timeout, [&] {
    v = counter(r, name);
    return v >= at_least;
  });
  return v;
}

uint64_t settled_counter(const sim::RelayProcess& r, const std::string& name, Millis quiet,
                         Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint64_t last = counter(r, name);
  auto since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    const uint64_t v = counter(r, name);
    if (v != last) {
      last = v;
      since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - since >= quiet) {
      break;
    }
  }
  return last;
}

std::string message_text(std::size_t n, std::size_t pad) {
  std::string s = "veil-it #" + std::to_string(n) + "|";
  s.append(pad, 'x');
  return s;
}

std::optional<std::size_t> message_number(ByteView content) {
  const std::string text(content.begin(), content.end());
  static const std::string kPrefix = "veil-it #";
  if (text.rfind(kPrefix, 0) != 0) return std::nullopt;
  const auto bar = text.find('|', kPrefix.size());
  if (bar == std::string::npos || bar == kPrefix.size()) return std::nullopt;
  std::size_t n = 0;
  for (std::size_t i = kPrefix.size(); i < bar; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(text[i] - '0');
  }
  return n;
}

relay::Submission v1_submission(const sim::Account& from, const sim::Account& to, std::size_t n,
                                 Rng& rng, std::size_t pad, const std::string& destination) {
  relay::Submission s;
  s.set_request_id(n);
  s.set_destination(destination);
  auto* r = s.add_recipients();
  r->set_service_id(to.uuid);
  r->add_devices(to.device);
  s.set_access_key(to.access_key.data(), to.access_key.size());
  const Bytes env = sim::seal_v1_to(from, to, as_bytes(message_text(n, pad)), rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

relay::Submission v2_submission(const sim::Account& from, const std::vector<const sim::Account*>& to,
                                std::size_t n, Rng& rng, std::size_t pad,
                                const std::string& destination) {
  relay::Submission s;
  s.set_request_id(n);
  s.set_destination(destination);
  const auto key = sim::combined_access_key(to);
  s.set_access_key(key.data(), key.size());
  const Bytes env = sim::seal_v2_to(from, to, as_bytes(message_text(n, pad)), rng);
  s.set_envelope(env.data(), env.size());
  return s;
}

std::size_t payload_size(const relay::Submission& s) {
  relay::Payload p;
  auto* b = p.mutable_bundle();
  const bool v1 = !s.envelope().empty() && (static_cast<uint8_t>(s.envelope()[0]) >> 4) <= 1;
  if (v1) *b->mutable_recipients() = s.recipients();
  b->set_access_key(s.access_key());
  b->set_envelope(s.envelope());
  return p.ByteSizeLong();
}

std::optional<relay::SubmitAnswer> submit_one(uint16_t port, const relay::Submission& s,
                                              Millis timeout, uint16_t* local_port) {
  sim::Socket sock = raw_connection(port, timeout);
  if (local_port != nullptr) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(sock.fd(), reinterpret_cast<sockaddr*>(&a), &len);
    *local_port = ntohs(a.sin_port);
  }
  const std::string body = s.SerializeAsString();
  if (!sock.send_frame(as_bytes(body))) return std::nullopt;
  return read_answer(sock);
}

sim::Socket raw_connection(uint16_t port, Millis timeout) {
  sim::Socket s = sim::Socket::connect_tcp(port);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

Bytes header(uint32_t len) {
  const auto h = relay::frame_header(len);
  return Bytes(h.begin(), h.end());
}

std::optional<relay::SubmitAnswer> read_answer(sim::Socket& s) {
  auto f = s.recv_frame();
  if (!f) return std::nullopt;
  relay::SubmitAnswer a;
  if (!a.ParseFromArray(f->data(), static_cast<int>(f->size()))) return std::nullopt;
  return a;
}

Submitter::Submitter(uint16_t port) {
  client_ = std::make_unique<sim::SubmitClient>(port, [this](const relay::SubmitAnswer& a) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[a.request_id()] = a;
    ++answered_;
  });
}

bool Submitter::send(const relay::Submission& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++sent_;
  }
  return client_->send(s);
}

bool Submitter::wait_answers(Millis timeout) {
  return wait_until(timeout, [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_ >= sent_;
  });
}

std::size_t Submitter::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

std::map<uint64_t, relay::SubmitAnswer> Submitter::answers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return answers_;
}

std::set<uint64_t> Submitter::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<uint64_t> out;
  for (const auto& [id, a] : answers_) {
    if (a.status() == relay::SubmitAnswer::ACCEPTED) out.insert(id);
  }
  return out;
}

std::map<uint64_t, std::string> Submitter::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint64_t, std::string> out;
  for (const auto& [id, a] : answers_) {
    if (a.status() != relay::SubmitAnswer::ACCEPTED) out[id] = a.reason();
  }
  return out;
}

namespace {

crypto::TrustPolicy policy_of(std::vector<crypto::PublicKey> roots) {
  crypto::TrustPolicy p;
  p.roots = std::move(roots);
  return p;
}

// Names of fields beyond the ones proto/relay.proto gives a Delivery, or unknown fields.
std::string extra_fields(const relay::Delivery& d) {
  std::string out;
  const auto* refl = d.GetReflection();
  if (refl->GetUnknownFields(d).field_count() != 0) out += " unknown fields in Delivery;";
  if (d.has_recipient() &&
      d.recipient().GetReflection()->GetUnknownFields(d.recipient()).field_count() != 0) {
    out += " unknown fields in Recipient;";
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(d, &fields);
  static const std::set<std::string> kNamed = {"delivery_id", "recipient", "access_key", "envelope",
                                               "server_timestamp"};
  for (const auto* f : fields) {
    if (kNamed.count(f->name()) == 0) out += " field " + f->name() + ";";
  }
  return out;
}

}  // namespace

Inbox::Inbox(const sim::Provider& provider, std::vector<crypto::PublicKey> trust_roots)
    : provider_(provider), validator_(policy_of(std::move(trust_roots))) {
  for (const auto& a : provider_.accounts) by_uuid_[a.uuid] = &a;
}

void Inbox::on_delivery(const relay::Delivery& d) {
  std::lock_guard<std::mutex> lock(mu_);
  ++frames_;
  if (const std::string extra = extra_fields(d); !extra.empty()) {
    problems_.push_back("delivery " + std::to_string(d.delivery_id()) + ":" + extra);
  }
  if (auto it = by_id_.find(d.delivery_id()); it != by_id_.end()) {
    ++duplicate_frames_;
    const auto& first = it->second.delivery;
    if (first.envelope() != d.envelope() || first.recipient().service_id() != d.recipient().service_id() ||
        first.access_key() != d.access_key() || first.server_timestamp() != d.server_timestamp()) {
      problems_.push_back("delivery id " + std::to_string(d.delivery_id()) +
                          " repeated with different content");
    }
    return;
  }
  auto acct = by_uuid_.find(d.recipient().service_id());
  if (acct == by_uuid_.end()) {
    problems_.push_back("delivery " + std::to_string(d.delivery_id()) + " for unknown recipient " +
                        d.recipient().service_id());
    return;
  }
  auto opened = crypto::open_sealed(as_bytes(d.envelope()), acct->second->identity, validator_, wall_ms());
  if (!opened) {
    problems_.push_back("delivery " + std::to_string(d.delivery_id()) + " does not open: " +
                        std::string(error_name(opened.error())));
    return;
  }
  auto n = message_number(opened->content.content);
  if (!n) {
    problems_.push_back("delivery " + std::to_string(d.delivery_id()) + " carries no message number");
    return;
  }
  const auto key = std::make_pair(*n, d.recipient().service_id());
  if (auto k = by_key_.find(key); k != by_key_.end()) {
    problems_.push_back("message " + std::to_string(*n) + " delivered to " + key.second +
                        " again under a new delivery id " + std::to_string(d.delivery_id()) +
                        " (first " + std::to_string(k->second) + ")");
    return;
  }
  by_key_[key] = d.delivery_id();
  Entry e;
  e.delivery = d;
  e.message = *n;
  e.sender_uuid = opened->content.sender.sender_uuid;
  e.version = opened->version;
  by_id_.emplace(d.delivery_id(), std::move(e));
}

std::size_t Inbox::frames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return frames_;
}

std::size_t Inbox::distinct() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_key_.size();
}

bool Inbox::has(std::size_t message, const std::string& recipient) const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_key_.count({message, recipient}) != 0;
}

std::set<std::size_t> Inbox::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::size_t> out;
  for (const auto& [k, id] : by_key_) out.insert(k.first);
  return out;
}

std::size_t Inbox::duplicate_frames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return duplicate_frames_;
}

std::vector<Inbox::Entry> Inbox::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> out;
  for (const auto& [id, e] : by_id_) out.push_back(e);
  return out;
}

std::vector<std::string> Inbox::problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problems_;
}

std::string describe(const std::vector<std::string>& problems, std::size_t max) {
  std::ostringstream os;
  os << problems.size() << " problem(s)";
  for (std::size_t i = 0; i < problems.size() && i < max; ++i) os << "; " << problems[i];
  return os.str();
}

std::vector<sim::TappedPacket> LinkTap::packets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tap_ ? tap_->packets() : std::vector<sim::TappedPacket>{};
}

std::size_t LinkTap::packet_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tap_ ? tap_->packet_count() : 0;
}

bool LinkTap::inject(ByteView packet) {
  std::lock_guard<std::mutex> lock(mu_);
  return tap_ && tap_->inject(packet);
}

void LinkTap::set_mutator(std::function<void(Bytes&)> f) {
  std::lock_guard<std::mutex> lock(mu_);
  mutator_ = std::move(f);
  if (tap_) tap_->set_mutator(mutator_);
}

Bytes LinkTap::stream_bytes(bool forward) const {
  std::lock_guard<std::mutex> lock(mu_);
  return tap_ ? tap_->stream_bytes(forward) : Bytes{};
}

uint16_t LinkTap::open(uint16_t target_port) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tap_) tap_->stop();
  tap_ = std::make_unique<sim::Tap>(target_port, keep_bytes_, keep_streams_);
  if (mutator_) tap_->set_mutator(mutator_);
  return tap_->port();
}

void LinkTap::close() {
  std::unique_ptr<sim::Tap> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = std::move(tap_);
  }
  if (t) t->stop();
}

namespace {

// A messenger stand-in on a free port (re-picked if another process takes it first).
std::unique_ptr<sim::DeliverServer> deliver_server(uint16_t& port, sim::DeliverServer::Handler h) {
  for (int attempt = 0;; ++attempt) {
    try {
      return std::make_unique<sim::DeliverServer>(port, h);
    } catch (const std::runtime_error&) {
      if (attempt >= 3) throw;
      port = sim::free_port();
    }
  }
}

}  // namespace

Deployment::Deployment(const std::string& tag, const nlohmann::json& common, bool with_mix,
                       std::size_t alpha_users, std::size_t beta_users)
    : alpha(sim::Provider::create(kAlphaProvider, alpha_users, wall_ms() + 86'400'000, rng)),
      beta(sim::Provider::create(kBetaProvider, beta_users, wall_ms() + 86'400'000, rng)),
      dir_(tag),
      beta_inbox_(beta, {alpha.trust_root.pub}),
      alpha_inbox_(alpha, {beta.trust_root.pub}) {
  nodes_.push_back(sim::make_node(kAlpha, kAlphaProvider, rng));
  if (with_mix) nodes_.push_back(sim::make_node(kMix, "", rng));
  nodes_.push_back(sim::make_node(kBeta, kBetaProvider, rng));
  const nlohmann::json defaults = {{"mix_hops", with_mix ? 1 : 0},
                                   {"packet_size", 4096},
                                   {"metrics_interval_ms", 50},
                                   {"deliver_retry_ms", 500},
                                   {"mix", {{"strategy", "none"}}}};
  for (auto& n : nodes_) {
    n.settings = defaults;
    n.settings.merge_patch(common);
  }
  for (const auto& a : beta.accounts) node(kBeta).recipients[a.uuid] = to_hex(a.access_key);
  for (const auto& a : alpha.accounts) node(kAlpha).recipients[a.uuid] = to_hex(a.access_key);
  beta_server_ = deliver_server(node(kBeta).deliver_port,
                                [this](const relay::Delivery& d) { beta_inbox_.on_delivery(d); });
  alpha_server_ = deliver_server(node(kAlpha).deliver_port,
                                 [this](const relay::Delivery& d) { alpha_inbox_.on_delivery(d); });
}

namespace {

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

void check_exit(const std::string& name, int status) {
  if (status != 0) BOOST_ERROR("relay " << name << " " << exit_description(status));
}

}  // namespace

Deployment::~Deployment() {
  for (auto& [name, r] : relays_) {
    if (r) check_exit(name, r->stop());
  }
  for (auto& t : taps_) t->close();
  if (beta_server_) beta_server_->stop();
  if (alpha_server_) alpha_server_->stop();
}

sim::RelayNode& Deployment::node(const std::string& name) {
  for (auto& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::logic_error("no relay named " + name);
}

void Deployment::configure(const std::string& name, const nlohmann::json& settings) {
  node(name).settings.merge_patch(settings);
}

LinkTap& Deployment::tap(const std::string& from, const std::string& to, bool keep_bytes,
                         bool keep_streams) {
  if (prepared_) throw std::logic_error("Deployment::tap after start");
  node(from);
  node(to);
  taps_.push_back(std::make_unique<LinkTap>(from, to, keep_bytes, keep_streams));
  return *taps_.back();
}

std::map<std::pair<std::string, std::string>, LinkTap*> Deployment::tap_all_links(bool keep_bytes,
                                                                                  bool keep_streams) {
  std::map<std::pair<std::string, std::string>, LinkTap*> out;
  for (const auto& from : nodes_) {
    for (const auto& to : nodes_) {
      if (from.name != to.name) out[{from.name, to.name}] = &tap(from.name, to.name, keep_bytes, keep_streams);
    }
  }
  return out;
}

void Deployment::prepare() {
  std::set<uint16_t> taken = {node(kAlpha).deliver_port, node(kBeta).deliver_port};
  auto fresh = [&taken] {
    for (;;) {
      const uint16_t p = sim::free_port();
      if (taken.insert(p).second) return p;
    }
  };
  for (auto& n : nodes_) {
    n.peer_port = fresh();
    n.dial_port = n.peer_port;
    if (!n.provider.empty()) n.submit_port = fresh();
  }
  routes_.clear();
  for (auto& t : taps_) routes_[{t->from(), t->to()}] = t->open(node(t->to()).peer_port);
  prepared_ = true;
}

void Deployment::unprepare() {
  for (auto& [name, r] : relays_) {
    if (r) r->stop();
  }
  relays_.clear();
  for (auto& t : taps_) t->close();
  prepared_ = false;
}

bool Deployment::any_running() const {
  for (const auto& [name, r] : relays_) {
    if (r) return true;
  }
  return false;
}

std::vector<sim::RelayNode> Deployment::view_of(const std::string& name) const {
  std::vector<sim::RelayNode> v = nodes_;
  for (auto& n : v) {
    auto r = routes_.find({name, n.name});
    n.dial_port = r == routes_.end() ? n.peer_port : r->second;
  }
  return v;
}

namespace {

bool port_taken(const std::exception& e) {
  return std::string(e.what()).find("address already in use") != std::string::npos;
}

}  // namespace

void Deployment::start() {
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = !any_running() && attempt < 3;
    if (!prepared_) prepare();
    try {
      for (const auto& n : nodes_) {
        relays_[n.name] = std::make_unique<sim::RelayProcess>(n, view_of(n.name), dir_.path());
      }
      for (const auto& n : nodes_) relays_[n.name]->wait_ready();
      return;
    } catch (const std::runtime_error& e) {
      if (!may_retry || !port_taken(e)) throw;
      unprepare();
    }
  }
}

void Deployment::start(const std::string& name) {
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = !any_running() && attempt < 3;
    if (!prepared_) prepare();
    auto& slot = relays_[name];
    if (slot) slot->stop();
    slot.reset();
    try {
      slot = std::make_unique<sim::RelayProcess>(node(name), view_of(name), dir_.path());
      slot->wait_ready();
      return;
    } catch (const std::runtime_error& e) {
      if (!may_retry || !port_taken(e)) throw;
      unprepare();
    }
  }
}

void Deployment::stop(const std::string& name, bool expect_clean) {
  const int status = relay(name).stop();
  if (expect_clean) check_exit(name, status);
}

sim::RelayProcess& Deployment::relay(const std::string& name) {
  auto it = relays_.find(name);
  if (it == relays_.end() || !it->second) throw std::logic_error("relay " + name + " was never started");
  return *it->second;
}

uint16_t Deployment::submit_port() const {
  for (const auto& n : nodes_) {
    if (n.name == kAlpha) return n.submit_port;
  }
  return 0;
}

void Deployment::expect_running() {
  for (auto& [name, r] : relays_) {
    if (!r) continue;
    siginfo_t info{};
    // WNOWAIT: look without reaping (RelayProcess::stop reaps it later).
    if (::waitid(P_PID, static_cast<id_t>(r->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == r->pid()) {
      const int status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status & 0x7f;
      BOOST_ERROR("relay " << name << " " << exit_description(status) << " while the test ran");
    }
  }
}

}  // namespace veil::it

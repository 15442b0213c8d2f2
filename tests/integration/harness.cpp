// Integration-test harness: numbered messages, submitters, inboxes and the suite's deployment.
#include "harness.h"

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "crypto/sealed_sender.h"
#include "proxy/relay/core/framing.h"

namespace veil::it {

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
  return sim::v1_submission(from, to, as_bytes(message_text(n, pad)), rng, n, destination);
}

relay::Submission v2_submission(const sim::Account& from, const std::vector<const sim::Account*>& to,
                                std::size_t n, Rng& rng, std::size_t pad,
                                const std::string& destination) {
  return sim::v2_submission(from, to, as_bytes(message_text(n, pad)), rng, n, destination);
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
  if (local_port != nullptr) *local_port = sock.local_port();
  const std::string body = s.SerializeAsString();
  if (!sock.send_frame(as_bytes(body))) return std::nullopt;
  return read_answer(sock);
}

sim::Socket raw_connection(uint16_t port, Millis timeout) {
  sim::Socket s = sim::Socket::connect_tcp(port);
  s.set_recv_timeout(timeout);
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

namespace {

// The suite's relay settings, under the test's own.
sim::Spec spec_of(const nlohmann::json& common, bool with_mix, const sim::DirectoryOptions& directory) {
  sim::Spec spec;
  spec.directory = directory;
  spec.mixes = with_mix ? 1 : 0;
  spec.common = {{"mix_hops", with_mix ? 1 : 0},
                 {"packet_size", 4096},
                 {"metrics_interval_ms", 50},
                 {"deliver_retry_ms", 500},
                 {"mix", {{"strategy", "none"}}}};
  spec.common.merge_patch(common);
  spec.plain_links = spec.common.value("plain_links", true);
  spec.await_links = false;
  spec.on_fault = [](const std::string& what) { BOOST_ERROR(what); };
  return spec;
}

}  // namespace

Deployment::Deployment(const std::string& tag, const nlohmann::json& common, bool with_mix,
                       const sim::DirectoryOptions& directory)
    : sim::Deployment(spec_of(common, with_mix, directory), tag),
      beta_inbox_(beta, {alpha.trust_root.pub}),
      alpha_inbox_(alpha, {beta.trust_root.pub}) {
  on_delivery(kBeta, [this](const relay::Delivery& d) { beta_inbox_.on_delivery(d); });
  on_delivery(kAlpha, [this](const relay::Delivery& d) { alpha_inbox_.on_delivery(d); });
}

Deployment::~Deployment() { stop(); }

}  // namespace veil::it

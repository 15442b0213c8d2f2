// Integration-test harness: a three-relay deployment on loopback (relay-alpha -> mix-1 ->
// relay-beta) with messenger stand-ins, per-link taps, bounded waits and metric readers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "crypto/certificate.h"
#include "base/rng.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/network.h"
#include "proxy/sim/socket.h"
#include "proxy/sim/tap.h"
#include "proxy/sim/temp_dir.h"
#include "relay.pb.h"

namespace veil::it {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

inline constexpr const char* kAlpha = "relay-alpha";
inline constexpr const char* kMix = "mix-1";
inline constexpr const char* kBeta = "relay-beta";
inline constexpr const char* kAlphaProvider = "alpha.example";
inline constexpr const char* kBetaProvider = "beta.example";

// Wall-clock milliseconds since the epoch.
uint64_t wall_ms();

// Polls `pred` every few milliseconds until it holds or `timeout` passed; returns its last value.
bool wait_until(Millis timeout, const std::function<bool()>& pred);

using sim::TempDir;  // scratch directories (kept if VEIL_KEEP_TEMP is set)

// Counter `name` in a relay's latest metrics snapshot; 0 before the first snapshot.
uint64_t counter(const sim::RelayProcess& r, const std::string& name);
// rejected_by_reason[reason] in the latest snapshot; 0 if absent.
uint64_t rejected(const sim::RelayProcess& r, const std::string& reason);
// Waits until counter(r, name) >= at_least; the final value either way.
uint64_t wait_counter(const sim::RelayProcess& r, const std::string& name, uint64_t at_least,
                      Millis timeout);
// Waits until counter(r, name) has not changed over `quiet` (at most `timeout`); its value.
uint64_t settled_counter(const sim::RelayProcess& r, const std::string& name, Millis quiet,
                         Millis timeout);

// Message texts carry their number: "veil-it #<n>|" followed by `pad` filler bytes.
std::string message_text(std::size_t n, std::size_t pad = 0);
// The number of a message text; nullopt if it is not one.
std::optional<std::size_t> message_number(ByteView content);

// An SSv1 submission of message `n` from `from` to `to` (request_id = n).
relay::Submission v1_submission(const sim::Account& from, const sim::Account& to, std::size_t n,
                                 Rng& rng, std::size_t pad = 0,
                                 const std::string& destination = kBetaProvider);
// An SSv2 submission of message `n` to every account in `to` (combined access key).
relay::Submission v2_submission(const sim::Account& from, const std::vector<const sim::Account*>& to,
                                std::size_t n, Rng& rng, std::size_t pad = 0,
                                const std::string& destination = kBetaProvider);
// The size of the plaintext the egress relay builds from `s` (Payload.bundle of its named fields).
std::size_t payload_size(const relay::Submission& s);

// One submission on a fresh connection; the answer, or nullopt after `timeout` without one.
// `local_port` receives the connection's source port.
std::optional<relay::SubmitAnswer> submit_one(uint16_t port, const relay::Submission& s,
                                              Millis timeout = 5000ms,
                                              uint16_t* local_port = nullptr);

// A raw submit connection whose reads give up after `timeout` (recv then reports EOF/error).
sim::Socket raw_connection(uint16_t port, Millis timeout = 3000ms);
// The 4-byte length header of a frame of `len` bytes (any length, for malformed input).
Bytes header(uint32_t len);
// The next SubmitAnswer on `s`; nullopt on EOF, timeout or an unparsable frame.
std::optional<relay::SubmitAnswer> read_answer(sim::Socket& s);

// Pipelined submissions on one connection; answers are kept by request id.
class Submitter {
 public:
  explicit Submitter(uint16_t port);
  bool send(const relay::Submission& s);
  // Waits until every sent submission was answered; false on timeout.
  bool wait_answers(Millis timeout);
  std::size_t sent() const;
  std::map<uint64_t, relay::SubmitAnswer> answers() const;
  std::set<uint64_t> accepted() const;
  // Rejected request ids and their reasons.
  std::map<uint64_t, std::string> rejected() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, relay::SubmitAnswer> answers_;
  std::size_t sent_ = 0;
  std::size_t answered_ = 0;
  std::unique_ptr<sim::SubmitClient> client_;  // last: its reader thread uses the fields above
};

// A messenger server's view of its deliveries: every frame is checked (named fields only),
// each new delivery id is opened with the recipient's identity key under the given trust roots,
// and repeated frames must repeat the same delivery id with the same content.
class Inbox {
 public:
  struct Entry {
    relay::Delivery delivery;     // the first frame with this delivery id
    std::size_t message = 0;      // the message number inside the sealed content
    std::string sender_uuid;      // from the opened sender certificate
    int version = 0;              // sealed-sender version
  };
  Inbox(const sim::Provider& provider, std::vector<crypto::PublicKey> trust_roots);
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void on_delivery(const relay::Delivery& d);

  std::size_t frames() const;
  // Distinct (message, recipient) pairs received.
  std::size_t distinct() const;
  bool has(std::size_t message, const std::string& recipient) const;
  std::set<std::size_t> messages() const;
  std::size_t duplicate_frames() const;
  std::vector<Entry> entries() const;
  // Everything that went wrong (unopenable envelopes, unknown fields, reused/new ids for
  // duplicates, unknown recipients), one line each.
  std::vector<std::string> problems() const;

 private:
  const sim::Provider& provider_;
  std::map<std::string, const sim::Account*> by_uuid_;
  mutable std::mutex mu_;
  crypto::CertificateValidator validator_;
  std::size_t frames_ = 0;
  std::size_t duplicate_frames_ = 0;
  std::map<uint64_t, Entry> by_id_;
  std::map<std::pair<std::size_t, std::string>, uint64_t> by_key_;
  std::vector<std::string> problems_;
};

// Formats up to `max` problems for a failure message.
std::string describe(const std::vector<std::string>& problems, std::size_t max = 5);

// A tap on one directed link between two relays. The underlying sim::Tap is created when the
// deployment starts (once the relays' ports are final); before that it has seen nothing.
class LinkTap {
 public:
  LinkTap(std::string from, std::string to, bool keep_bytes, bool keep_streams)
      : from_(std::move(from)), to_(std::move(to)), keep_bytes_(keep_bytes), keep_streams_(keep_streams) {}
  const std::string& from() const { return from_; }
  const std::string& to() const { return to_; }
  std::vector<sim::TappedPacket> packets() const;
  std::size_t packet_count() const;
  // Replays `packet` on the link (false before the link is up).
  bool inject(ByteView packet);
  // Kept across a (re)creation of the tap; may be set before the deployment starts.
  void set_mutator(std::function<void(Bytes&)> f);
  // Every byte seen in one direction (keep_streams only).
  Bytes stream_bytes(bool forward) const;

 private:
  friend class Deployment;
  uint16_t open(uint16_t target_port);  // the tap's listening port
  void close();
  std::string from_, to_;
  bool keep_bytes_, keep_streams_;
  mutable std::mutex mu_;
  std::function<void(Bytes&)> mutator_;
  std::unique_ptr<sim::Tap> tap_;
};

// relay-alpha (provider alpha.example) -> [mix-1] -> relay-beta (provider beta.example), each
// with its own free ports, keys and config in a temp dir; messenger stand-ins for both
// providers. Relays are started explicitly and stopped (SIGTERM) on destruction.
class Deployment {
 public:
  // `common` is merged over every relay's generated config (configure() adds per-relay settings).
  // Without a mix, the providers' relays talk directly (one hop, pairwise layer).
  explicit Deployment(const std::string& tag, const nlohmann::json& common = nlohmann::json::object(),
                      bool with_mix = true, std::size_t alpha_users = 4, std::size_t beta_users = 6);
  ~Deployment();
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  SystemRng rng;
  sim::Provider alpha;
  sim::Provider beta;

  sim::RelayNode& node(const std::string& name);
  // Extra settings for one relay; call before start().
  void configure(const std::string& name, const nlohmann::json& settings);
  // Routes `from`'s connections to `to` through a new tap (other relays still dial `to`
  // directly); call before the first start().
  LinkTap& tap(const std::string& from, const std::string& to, bool keep_bytes = true,
               bool keep_streams = false);
  // Taps every directed link; the taps by (from, to).
  std::map<std::pair<std::string, std::string>, LinkTap*> tap_all_links(bool keep_bytes = true,
                                                                         bool keep_streams = false);

  // Starts every relay (or one) and waits for its "ready" line. The relays' listening ports are
  // chosen just before their first start; if another process took one meanwhile ("address
  // already in use"), fresh ports are chosen and the start is retried, as long as no relay of
  // this deployment runs yet.
  void start();
  void start(const std::string& name);
  // SIGTERM and wait; the relay's final metrics stay readable through relay(name). A relay that
  // did not exit cleanly (status 0) is a test error unless `expect_clean` is false. The
  // destructor stops every relay the same way.
  void stop(const std::string& name, bool expect_clean = true);
  sim::RelayProcess& relay(const std::string& name);

  uint16_t submit_port() const;  // relay-alpha's submit port
  // A test error for every started relay that is no longer running (crashed or exited).
  void expect_running();
  Inbox& beta_inbox() { return beta_inbox_; }
  Inbox& alpha_inbox() { return alpha_inbox_; }
  sim::DeliverServer& beta_server() { return *beta_server_; }

 private:
  std::vector<sim::RelayNode> view_of(const std::string& name) const;
  // Picks fresh listening ports for every relay and opens the taps on them.
  void prepare();
  void unprepare();  // stops every relay and closes the taps
  bool any_running() const;

  TempDir dir_;
  std::vector<sim::RelayNode> nodes_;
  std::map<std::pair<std::string, std::string>, uint16_t> routes_;
  bool prepared_ = false;
  Inbox beta_inbox_;
  Inbox alpha_inbox_;
  std::unique_ptr<sim::DeliverServer> beta_server_;
  std::unique_ptr<sim::DeliverServer> alpha_server_;
  std::vector<std::unique_ptr<LinkTap>> taps_;
  std::map<std::string, std::unique_ptr<sim::RelayProcess>> relays_;  // destroyed first
};

}  // namespace veil::it

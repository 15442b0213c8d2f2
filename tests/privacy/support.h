// Privacy-suite harness: loopback deployments (relay-alpha [-> mix-i] -> relay-beta) with
// per-link taps, submissions, ground truth by peeling captured packets with the relays' own keys
// (the test holds every key; the adversaries it models do not), and a watchdog against hangs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "crypto/packet_layer.h"
#include "base/rng.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/network.h"
#include "proxy/sim/socket.h"
#include "proxy/sim/tap.h"
#include "proxy/sim/temp_dir.h"
#include "relay.pb.h"

namespace veil::privacy {

namespace sim = veil::sim;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

inline constexpr const char* kAlpha = "relay-alpha";
inline constexpr const char* kBeta = "relay-beta";
inline constexpr const char* kAlphaProvider = "alpha.example";
inline constexpr const char* kBetaProvider = "beta.example";

// Wall-clock milliseconds since the Unix epoch.
uint64_t wall_ms();
// Seconds from `t0` to `t`.
double secs(Clock::time_point t0, Clock::time_point t);

// One line on stdout, prefixed "[privacy] " (ctest -V and --output-on-failure show it).
void report(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Polls `pred` every `poll` until it holds or `timeout` passed; returns its last value.
bool wait_until(Millis timeout, const std::function<bool()>& pred, Millis poll = Millis(5));

// Bounds a test case: after `seconds` it SIGKILLs every relay the suite started and exits the
// process with a message (so a hang fails fast instead of waiting for ctest's timeout).
class Watchdog {
 public:
  explicit Watchdog(int seconds);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

using sim::TempDir;  // scratch directories (kept if VEIL_KEEP_TEMP is set)

// One delivery as the messenger server stand-in received it.
struct Delivered {
  Clock::time_point at;
  std::string raw;  // the serialized Delivery frame body
  veil::relay::Delivery delivery;
};

// What a deployment looks like. Settings are merged over the generated relay configs: first
// `common`, then the per-role object.
struct Spec {
  std::size_t mixes = 0;        // mix relays mix-1..mix-n
  nlohmann::json common = nlohmann::json::object();
  nlohmann::json alpha = nlohmann::json::object();
  nlohmann::json beta = nlohmann::json::object();
  nlohmann::json mix = nlohmann::json::object();
  std::size_t alpha_users = 4;
  std::size_t beta_users = 6;
  uint64_t seed = 1;            // accounts, keys and sealing draw from SeededRng(seed)
};

// The ground truth of one captured packet, peeled with the keys of every relay on its path.
struct Peeled {
  bool ok = false;
  crypto::HopCommand command = crypto::HopCommand::drop;  // the innermost command
  std::vector<std::string> hops;  // relays that removed a layer, in order
  Bytes payload;                  // the innermost payload
  std::string envelope;           // deliver payloads: the bundle's envelope
};

// Relays, messenger stand-ins and taps of one test. Destruction stops everything (relays first).
class Deployment {
 public:
  Deployment(const Spec& spec, const std::string& tag);
  ~Deployment();
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  // A tap on the directed link from -> to (the dialing relay `from` reaches `to` through it).
  // Only before start().
  sim::Tap& tap(const std::string& from, const std::string& to, bool keep_bytes,
                bool keep_streams = false);
  // Taps on every directed link.
  void tap_all(bool keep_bytes, bool keep_streams = false);
  // The tap on from -> to, or nullptr.
  sim::Tap* link(const std::string& from, const std::string& to) const;
  // Every tap with its (from, to).
  std::vector<std::pair<std::pair<std::string, std::string>, sim::Tap*>> links() const;

  // Spawns the relays, waits for "ready" and for every peer link to be up.
  void start();
  // Stops relays (their final metrics are written), then taps and messenger stand-ins.
  void stop();

  std::vector<std::string> names() const;
  const sim::RelayNode& node(const std::string& name) const;
  const sim::Provider& alpha() const { return alpha_; }
  const sim::Provider& beta() const { return beta_; }
  Rng& rng() { return rng_; }
  uint16_t submit_port() const { return node(kAlpha).submit_port; }

  nlohmann::json metrics(const std::string& relay) const;
  uint64_t counter(const std::string& relay, const std::string& name) const;

  std::vector<Delivered> beta_deliveries() const;
  std::size_t beta_delivery_count() const;
  std::vector<Delivered> alpha_deliveries() const;
  uint64_t alpha_server_frames() const { return alpha_server_->frames(); }
  uint64_t beta_server_frames() const { return beta_server_->frames(); }

  // Removes every layer of `packet` captured on from -> to with the relays' keys.
  Peeled peel(ByteView packet, const std::string& from, const std::string& to) const;

 private:
  void spawn();
  std::vector<sim::RelayNode> view_of(const std::string& name) const;
  sim::RelayNode& mutable_node(const std::string& name);

  SeededRng rng_;
  TempDir dir_;
  sim::Provider alpha_;
  sim::Provider beta_;
  std::vector<sim::RelayNode> nodes_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<sim::Tap>> taps_;
  std::unique_ptr<sim::DeliverServer> alpha_server_;
  std::unique_ptr<sim::DeliverServer> beta_server_;
  std::vector<std::unique_ptr<sim::RelayProcess>> relays_;
  mutable std::mutex mu_;
  std::vector<Delivered> beta_inbox_;
  std::vector<Delivered> alpha_inbox_;
  bool stopped_ = false;
};

// Submissions built like a messenger server would.
veil::relay::Submission v1_submission(const sim::Account& from, const sim::Account& to,
                                      ByteView content, Rng& rng, uint64_t request_id);
veil::relay::Submission v2_submission(const sim::Account& from,
                                      const std::vector<const sim::Account*>& to, ByteView content,
                                      Rng& rng, uint64_t request_id);

// One submit connection used one submission at a time (send, then wait for the answer).
class Submitter {
 public:
  explicit Submitter(uint16_t port);
  veil::relay::SubmitAnswer submit(const veil::relay::Submission& s);
  // The local (source) port of this submit connection.
  uint16_t local_port() const;

 private:
  sim::Socket sock_;
};

// Peer-link frame bodies (proxy/relay/relay_internal.h): hello = 1 || name, packet = 2 || u64 seq
// || packet, ack = 3 || u64 seq.
inline constexpr uint8_t kFrameHello = 1;
inline constexpr uint8_t kFramePacket = 2;
inline constexpr uint8_t kFrameAck = 3;
Bytes packet_frame(uint64_t seq, ByteView packet);
// Makes blocking reads on `s` give up after `timeout` (so a missing answer fails, not hangs).
void set_recv_timeout(const sim::Socket& s, Millis timeout);

// 16-byte relay id of a relay name, as the relay computes it (SHA-256(name)[0..16)).
crypto::RelayId relay_id_of(const std::string& name);

}  // namespace veil::privacy

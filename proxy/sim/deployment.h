// A Veil deployment on loopback for the integration and privacy suites: relay-alpha (provider
// alpha.example) -> mix-1..mix-n -> relay-beta (provider beta.example), each relay a real
// veil-relay process with its own ports, keys and config in a temp dir; messenger stand-ins for
// both providers that record every delivery; taps on chosen links; bounded waits, metric readers
// and a watchdog against hangs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/rng.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/network.h"
#include "proxy/sim/tap.h"
#include "proxy/sim/temp_dir.h"
#include "relay.pb.h"

namespace veil::sim {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

inline constexpr const char* kAlpha = "relay-alpha";
inline constexpr const char* kMix = "mix-1";  // the first mix (mix-i for i = 1..Spec::mixes)
inline constexpr const char* kBeta = "relay-beta";
inline constexpr const char* kAlphaProvider = "alpha.example";
inline constexpr const char* kBetaProvider = "beta.example";

// Wall-clock milliseconds since the Unix epoch.
uint64_t wall_ms();

// Polls `pred` every `poll` until it holds or `timeout` passed; returns its last value.
bool wait_until(Millis timeout, const std::function<bool()>& pred, Millis poll = Millis(5));

// Counter `name` of a metrics snapshot; 0 before the first snapshot (no "counters" yet). A name
// the snapshot does not have is a std::logic_error (a misspelt counter must not read as 0).
uint64_t counter(const nlohmann::json& metrics, const std::string& name);
// The same on a relay's latest metrics snapshot.
uint64_t counter(const RelayProcess& r, const std::string& name);
// rejected_by_reason[reason] in a relay's latest snapshot; 0 if absent.
uint64_t rejected(const RelayProcess& r, const std::string& reason);
// Waits until counter(r, name) >= at_least; the final value either way.
uint64_t wait_counter(const RelayProcess& r, const std::string& name, uint64_t at_least,
                      Millis timeout);
// Waits until counter(r, name) has not changed over `quiet` (at most `timeout`); its value.
uint64_t settled_counter(const RelayProcess& r, const std::string& name, Millis quiet,
                         Millis timeout);

// Bounds a test case: after `seconds` it SIGKILLs every relay that any Deployment of this
// process is running and exits the process with a message (so a hang fails fast instead of
// waiting for ctest's timeout).
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

// Submissions built like a messenger server would: SSv1 from `from` to `to`, and SSv2 to every
// account in `to` (combined access key), carrying `content`.
veil::relay::Submission v1_submission(const Account& from, const Account& to, ByteView content,
                                      Rng& rng, uint64_t request_id,
                                      const std::string& destination = kBetaProvider);
veil::relay::Submission v2_submission(const Account& from, const std::vector<const Account*>& to,
                                      ByteView content, Rng& rng, uint64_t request_id,
                                      const std::string& destination = kBetaProvider);

// One delivery as a messenger stand-in received it.
struct Delivered {
  Clock::time_point at;
  std::string raw;  // the serialized Delivery frame body
  veil::relay::Delivery delivery;
};

// What a deployment looks like. Every relay's generated config gets `common` merged over it,
// then the object of its role (alpha, beta or mix); Deployment::configure adds more per relay.
struct Spec {
  std::size_t mixes = 0;  // mix relays mix-1..mix-n; 0: the providers' relays talk directly
  nlohmann::json common = nlohmann::json::object();
  nlohmann::json alpha = nlohmann::json::object();
  nlohmann::json beta = nlohmann::json::object();
  nlohmann::json mix = nlohmann::json::object();
  std::size_t alpha_users = 4;
  std::size_t beta_users = 6;
  // Peer links in plain TCP (plain_links = true) so that taps read, tamper with and replay packet
  // frames: the packet layer's own guarantees under an attacker on the link. false: TLS links,
  // whose taps see TLS records only.
  bool plain_links = true;
  // The signed directory's schedule, validity and authorities (written when the relays start).
  DirectoryOptions directory;
  // Accounts, keys and sealing draw from SeededRng(seed); without a seed, from a random one.
  std::optional<uint64_t> seed;
  // start() (all relays) also waits until every relay's peer links are up and stay up for a
  // moment; a deployment whose links do not come up within 10 s is a std::runtime_error.
  bool await_links = true;
  // Keep every delivery (alpha_deliveries(), beta_deliveries()); false: count them only (a long
  // run).
  bool keep_deliveries = true;
  // Told about every relay that exited other than cleanly when stopped (unless stop(name, false))
  // and, from expect_running(), every relay that is no longer running. Unset: ignored.
  std::function<void(const std::string& what)> on_fault;
};

// Relays, messenger stand-ins and taps of one test. Relays are started explicitly and stopped
// (SIGTERM) by stop() or on destruction, relays first, then taps and messenger stand-ins.
class Deployment {
 public:
  using Links = std::map<std::pair<std::string, std::string>, Tap*>;  // (from, to) -> tap

  Deployment(const Spec& spec, const std::string& tag);
  ~Deployment();
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  SeededRng rng;
  Provider alpha;
  Provider beta;

  // Relay names in path order: relay-alpha, mix-1..mix-n, relay-beta.
  std::vector<std::string> names() const;
  RelayNode& node(const std::string& name);
  const RelayNode& node(const std::string& name) const;
  // Writes every relay's directory file again, signed with `serial` (a newer directory, which a
  // relay takes on SIGHUP); `tamper` changes one byte of each body (a directory that must be
  // refused).
  void publish_directory(uint64_t serial, bool tamper = false);
  // The folder holding the relays' configs, keys, directory, journals and logs.
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Extra settings for one relay, merged over the rest; they apply from its next start.
  void configure(const std::string& name, const nlohmann::json& settings);
  // configure(), then relay `name`'s config file written again and SIGHUP sent (a reload, which
  // the relay answers with a "reload" event); returns at once. `raw_toml`, when not empty, is
  // written as the config file instead (a config that must be refused).
  void reload(const std::string& name, const nlohmann::json& settings, const std::string& raw_toml = "");

  // A tap on the directed link from -> to: relay `from` reaches `to` through it (other relays
  // still dial `to` directly). Only before the first start.
  Tap& tap(const std::string& from, const std::string& to, bool keep_bytes = true,
           bool keep_streams = false);
  // Taps on every directed link; all taps.
  Links tap_all(bool keep_bytes = true, bool keep_streams = false);
  // The tap on from -> to, or nullptr.
  Tap* link(const std::string& from, const std::string& to) const;
  Links links() const;

  // Starts every relay (or one; a running one is restarted with the same ports and keys) and
  // waits for its "ready" line. Listening ports are picked just before the first start; if
  // another process took one meanwhile ("address already in use"), fresh ports are picked and
  // the start is retried, as long as no relay of this deployment was started before.
  void start();
  void start(const std::string& name);
  // SIGTERM and wait; the relay's final metrics stay readable. An exit status other than 0 goes
  // to Spec::on_fault unless `expect_clean` is false. Returns the wait status.
  int stop(const std::string& name, bool expect_clean = true);
  // SIGKILL and wait: a crash, reported to nobody. Its last periodic metrics snapshot stays
  // readable; start(name) brings it back with the same ports, keys and journal. Returns the wait
  // status.
  int kill(const std::string& name);
  // Stops every relay as stop(name) does, then taps and messenger stand-ins. Idempotent.
  void stop();
  // Tells Spec::on_fault about every started relay that is no longer running (crashed or exited).
  void expect_running();

  // A started relay (std::logic_error before its first start).
  RelayProcess& relay(const std::string& name);
  // A relay's latest metrics snapshot (the final one once stopped); empty before it started.
  nlohmann::json metrics(const std::string& relay) const;
  uint64_t counter(const std::string& relay, const std::string& name) const;
  uint16_t submit_port() const { return node(kAlpha).submit_port; }  // relay-alpha's

  // The providers' messenger stand-ins and everything they received.
  DeliverServer& alpha_server() { return *alpha_messenger_.server; }
  DeliverServer& beta_server() { return *beta_messenger_.server; }
  std::vector<Delivered> alpha_deliveries() const;
  std::vector<Delivered> beta_deliveries() const;
  std::size_t beta_delivery_count() const;  // counted also without Spec::keep_deliveries
  // Also hands every delivery to relay `provider_relay`'s stand-in (kAlpha or kBeta) to
  // `handler`, on the stand-in's thread, one at a time; set it before the first start.
  void on_delivery(const std::string& provider_relay, DeliverServer::Handler handler);
  // An outage of relay `provider_relay`'s messenger stand-in: it stops listening and drops its
  // connections; bring_messenger_back() listens again on the same port (std::runtime_error if that
  // port was taken meanwhile). Deliveries keep going to the same handler and counts.
  void take_messenger_down(const std::string& provider_relay);
  void bring_messenger_back(const std::string& provider_relay);

 private:
  struct Messenger {
    std::unique_ptr<DeliverServer> server;
    std::vector<Delivered> received;  // guarded by mu_ (empty without Spec::keep_deliveries)
    std::size_t count = 0;            // guarded by mu_: deliveries received
    DeliverServer::Handler handler;   // guarded by mu_
  };
  Messenger& messenger(const std::string& provider_relay);
  DeliverServer::Handler recorder(Messenger& m);
  void serve(const std::string& provider_relay);
  void prepare();  // picks fresh listening ports and points the taps at them
  void start_relays(const std::vector<std::string>& names);
  void launch(const std::string& name);
  int halt(const std::string& name);  // stops a started relay; its wait status (0 otherwise)
  void await_links();
  std::vector<RelayNode> view_of(const std::string& name) const;
  void fault(const std::string& what) const;

  bool await_links_;
  bool keep_deliveries_;
  bool tls_links_;  // peer links run TLS: taps record TLS records
  DirectoryOptions directory_options_;
  std::function<void(const std::string&)> on_fault_;
  TempDir dir_;
  std::vector<RelayNode> nodes_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Tap>> taps_;
  mutable std::mutex mu_;
  Messenger alpha_messenger_;
  Messenger beta_messenger_;
  bool prepared_ = false;
  bool stopped_ = false;
  std::map<std::string, std::unique_ptr<RelayProcess>> relays_;  // destroyed first
};

}  // namespace veil::sim

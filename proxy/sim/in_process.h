// Whole relays in one process: a deployment on a manual clock, a manual executor and an in-memory
// network, with messenger stand-ins, for deterministic tests (tests/relay/). Nothing runs unless
// the test moves it: settle() performs every pending read, job and completion; advance() moves
// the clock and fires due timers, settling after each.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/executor.h"
#include "base/rng.h"
#include "proxy/relay/core/framed_stream.h"
#include "proxy/relay/core/relay.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/memory_network.h"
#include "relay.pb.h"

namespace veil::sim {

// A messenger server's submit connection to its relay: submissions out, answers in.
class MemorySubmitter {
 public:
  MemorySubmitter(MemoryNetwork& net, const relay::Endpoint& submit);
  void send(const relay::Submission& s);
  // Several submissions in one write (they arrive in one read: one batch).
  void send_all(const std::vector<relay::Submission>& subs);
  // Arbitrary bytes (for malformed-input tests).
  void send_raw(ByteView bytes);
  void close();
  // Finishes sending (half-close): the relay answers what it read, then closes.
  void end();
  bool connected() const { return conn_ != nullptr; }
  bool closed() const { return closed_; }
  const std::vector<relay::SubmitAnswer>& answers() const { return answers_; }
  std::size_t accepted() const;

 private:
  std::unique_ptr<relay::Dialer> dialer_;
  std::shared_ptr<relay::Stream> raw_;
  std::shared_ptr<relay::FramedStream> conn_;
  std::vector<Bytes> queued_;  // sent before the connection was up
  std::vector<relay::SubmitAnswer> answers_;
  bool closed_ = false;
};

// A messenger server's deliver endpoint: records deliveries; acknowledges them unless withheld.
class MemoryDeliverServer {
 public:
  MemoryDeliverServer(MemoryNetwork& net, const relay::Endpoint& where);
  // While true, deliveries are recorded but not acknowledged.
  void withhold_acks(bool on) { withhold_ = on; }
  // Acknowledges every delivery recorded and not yet acknowledged.
  void ack_all();
  // Sends one frame with `body` to the relay on every open connection (for malformed acks).
  void send_frame(ByteView body);
  const std::vector<relay::Delivery>& deliveries() const { return deliveries_; }
  std::size_t connections() const { return connections_; }
  // An outage: stops listening and closes every connection (what it had not acknowledged is
  // forgotten, as by a crashed server); come_back() listens again at the same endpoint.
  void go_down();
  void come_back();

 private:
  void listen();
  MemoryNetwork& net_;
  relay::Endpoint where_;
  std::unique_ptr<relay::Listener> listener_;
  std::vector<std::shared_ptr<relay::FramedStream>> conns_;
  std::vector<relay::Delivery> deliveries_;
  std::vector<uint64_t> unacked_;
  bool withhold_ = false;
  std::size_t connections_ = 0;
};

class InProcessWorld {
 public:
  struct Node {
    std::string name;
    std::string provider;  // empty for a mix
    std::shared_ptr<crypto::KeyPair> epoch_key;
    std::map<uint64_t, std::shared_ptr<crypto::KeyPair>> epoch_keys;  // with use_epochs()
    relay::RelayConfig config;
    relay::Journal* journal = nullptr;
    std::unique_ptr<relay::NullJournal> null_journal;
    std::unique_ptr<relay::NullSecurity> security;
    std::unique_ptr<relay::MemoryEpochKeys> keys;
    std::unique_ptr<relay::Relay> relay;
    std::unique_ptr<MemoryDeliverServer> deliver;
    std::unique_ptr<MemorySubmitter> submitter;
  };

  explicit InProcessWorld(uint64_t seed = 1);
  ~InProcessWorld();

  // Declares a relay (a provider relay when `provider` is set, else a mix) before start(). Its
  // config gets this world's endpoints, a directory of every declared relay, no cover traffic and
  // a `none` mix; `tune` then edits it. `journal` (optional) must outlive the world.
  void add_relay(const std::string& name, const std::string& provider,
                 std::function<void(relay::RelayConfig&)> tune = {},
                 relay::Journal* journal = nullptr);
  // Users of `provider` (with keys and certificates), served by its relay (unrestricted = false).
  Provider& add_provider(const std::string& provider, std::size_t users);
  // Before start(): every relay runs on the schedule `timing` with its own keys for epochs
  // 0 .. `epochs` - 1, all of them published in the directory.
  void use_epochs(const relay::EpochTiming& timing, uint64_t epochs);
  // Starts every relay, its messenger stand-ins and a submit connection, then settles.
  void start();
  // Stops relay `name` and destroys it (a crash, for what its journal did not keep).
  void stop_relay(const std::string& name);
  // Builds relay `name` again from its config and journal and starts it (recovery).
  void restart_relay(const std::string& name);

  // Performs pending network tasks, worker jobs and timers due now until nothing is left.
  void settle();
  // As settle(), but leaves worker jobs pending (to hold a batch between read and completion).
  void settle_network();
  // Moves the clock by `d`, firing due timers in order and settling after each.
  void advance(Micros d);

  Node& node(const std::string& name);
  relay::Relay& relay(const std::string& name) { return *node(name).relay; }
  uint64_t counter(const std::string& name, relay::Counter c) {
    return relay(name).metrics().get(c);
  }
  MemorySubmitter& submitter(const std::string& relay_name) { return *node(relay_name).submitter; }
  MemoryDeliverServer& deliver(const std::string& relay_name) { return *node(relay_name).deliver; }
  Provider& provider(const std::string& name) { return providers_.at(name); }

  ManualClock clock;
  // When set (before start()), relays read time through this clock instead (a test's decorator
  // of `clock`, e.g. one whose timers fire early); it must outlive the world's relays.
  ::veil::Clock* relay_clock = nullptr;
  ManualExecutor executor;
  MemoryNetwork net;
  SeededRng rng;

 private:
  void build(Node& n);
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Provider> providers_;
};

}  // namespace veil::sim

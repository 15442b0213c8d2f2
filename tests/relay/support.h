// Shared pieces of the in-process relay suite: the standard three-relay world (relay-alpha →
// mix-1 → relay-beta), a journal that records every call and can hold commits back, and a reader
// of the link frames an observer saw.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proxy/relay/core/journal.h"
#include "proxy/sim/deployment.h"
#include "proxy/sim/in_process.h"

namespace veil::relay_test {

using sim::kAlpha;
using sim::kAlphaProvider;
using sim::kBeta;
using sim::kBetaProvider;
using sim::kMix;

using relay::Counter;
using Tune = std::function<void(relay::RelayConfig&)>;

// alpha.example and beta.example with `users` accounts each; relay-alpha, mix-1 (when `with_mix`,
// and then alpha's packets take one mix hop) and relay-beta. Not started.
void declare_world(sim::InProcessWorld& w, bool with_mix, const Tune& alpha = {},
                   const Tune& mix = {}, const Tune& beta = {}, std::size_t users = 4,
                   relay::Journal* alpha_journal = nullptr, relay::Journal* beta_journal = nullptr);

// Message `n` from alpha's first user to beta's user `to` (SSv1), request id n.
relay::Submission message_to_beta(sim::InProcessWorld& w, uint64_t n, std::size_t to = 0);

// A journal that keeps what each finished commit covered (so a restarted relay recovers exactly
// that, and a crash loses what no commit finished), counts every call, and queues commit
// callbacks while holding (until release()) or failing (until fail(false), like a write that
// succeeds on retry).
class TestJournal final : public relay::Journal {
 public:
  void record(uint64_t item, const crypto::RelayId& next_hop, relay::WallMicros release_at,
              ByteView packet) override;
  void record_release(uint64_t item, relay::WallMicros release_at) override;
  void forget(uint64_t item) override;
  void record_delivery(uint64_t id, ByteView delivery) override;
  void forget_delivery(uint64_t id) override;
  void record_replay_tag(uint64_t epoch, const relay::ReplayTag& tag) override;
  void forget_replay_epochs_before(uint64_t epoch) override;
  void record_checkpoint(const relay::JournalCheckpoint& c) override;
  void commit(std::function<void()> durable) override;
  bool failing() const override { return failing_; }
  relay::JournalCheckpoint recover(const RecoverFns& fns) override;

  void hold(bool on) { holding_ = on; }
  // Writes fail (true) or succeed again (false: the queued commits finish, in order).
  void fail(bool on);
  // Runs the held commits in order; returns how many.
  std::size_t release();
  std::size_t held() const { return held_.size(); }
  // A crash: what no finished commit covered is gone, and so are the unfinished commits.
  void crash() {
    staged_.clear();
    held_.clear();
  }

  struct Packet {
    crypto::RelayId next_hop{};
    relay::WallMicros release_at = relay::kNoWallTime;
    Bytes packet;
  };
  std::size_t records = 0, forgets = 0, delivery_records = 0, delivery_forgets = 0, commits = 0,
              tag_records = 0;
  // Durable state: what finished commits covered.
  std::map<uint64_t, Packet> packets;
  std::map<uint64_t, Bytes> deliveries;
  std::map<uint64_t, std::vector<relay::ReplayTag>> tags;  // by epoch
  relay::JournalCheckpoint checkpoint;
  std::vector<uint64_t> forgotten;  // in order of the forget calls

 private:
  using Op = std::function<void()>;
  struct Commit {
    std::vector<Op> ops;
    std::function<void()> durable;
  };
  void finish(Commit& c);
  bool holding_ = false;
  bool failing_ = false;
  std::vector<Op> staged_;
  std::vector<Commit> held_;
};

// The frames in the bytes a relay wrote to a peer endpoint (each write is whole frames).
struct SeenFrame {
  uint8_t type = 0;
  uint64_t seq = 0;
  Bytes body;   // the whole frame body
  Micros at = 0;  // when it was written (Wire::packets)
};
std::vector<SeenFrame> frames_in(const std::vector<Bytes>& writes);

// What dialers wrote to relay `name`'s peer port (an observer of the links into it).
struct Wire {
  std::vector<Bytes> writes;
  std::vector<Micros> times;  // of each write
  void watch(sim::InProcessWorld& w, const std::string& name = kBeta);
  std::vector<SeenFrame> packets() const;  // packet frames only, with their write times
};

// The write times of the packet frames `wire` saw.
std::multiset<Micros> send_times(const Wire& wire);

// The monotonic time of a journaled wall time, on this world's manual clock.
Micros mono(sim::InProcessWorld& w, relay::WallMicros t);

// relay-alpha (its journal `journal`, its config edited by `alpha`) and relay-beta, no mix, with
// a Wire on the link into relay-beta; started.
struct JournaledAlpha {
  TestJournal journal;
  sim::InProcessWorld w;
  Wire wire;
  explicit JournaledAlpha(const Tune& alpha = {}) {
    declare_world(w, false, alpha, {}, {}, 4, &journal);
    wire.watch(w);
    w.start();
  }
};

// An attacker on the unauthenticated link into relay-beta: claims a name (none if empty) and
// sends frames it saw.
struct Attacker {
  std::unique_ptr<relay::Dialer> dialer;
  std::shared_ptr<relay::Stream> stream;
  bool ended = false;
  Attacker(sim::InProcessWorld& w, const std::string& claim);
  void send(ByteView body);
};

}  // namespace veil::relay_test

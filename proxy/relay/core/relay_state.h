// The relay's internal state and its stage functions, grouped by the file that defines them (the
// order of relay.h's path). Included only by the relay's own files.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "crypto/packet_layer.h"
#include "proxy/relay/core/cover.h"
#include "proxy/relay/core/epoch_keys.h"
#include "proxy/relay/core/framed_stream.h"
#include "proxy/relay/core/mix.h"
#include "proxy/relay/core/ordered_batches.h"
#include "proxy/relay/core/relay.h"
#include "proxy/relay/core/replay_filter.h"

namespace veil::relay {

class Delivery;  // proto/relay.proto

// A packet queued for a peer: sent and not acknowledged (seq ≠ 0), or not yet sent.
struct Unacked {
  uint64_t seq = 0;
  Bytes packet;
  uint64_t journal_item = 0;
};

// One directory entry other than this relay, and the outgoing link to it.
struct Peer {
  PeerConfig config;
  std::size_t index = 0;  // in peers_, and in RelayKeys::pairwise
  std::unique_ptr<Dialer> dialer;
  std::shared_ptr<FramedStream> conn;
  std::deque<Unacked> unacked;  // sent on the current connection, not yet acknowledged
  std::deque<Unacked> waiting;  // not yet sent (no connection)
  uint64_t next_seq = 1;
  std::size_t in_pool = 0;  // packets for this peer in the mix pool or held for their commit
  uint64_t connects = 0;     // connections established
  uint64_t disconnects = 0;  // connections lost
  // Submissions for this destination relay that may be accepted now (limits.submit_rate).
  double submit_tokens = -1;  // < 0: full
  Micros submit_tokens_at = 0;
};

// The pairwise keys of one peer in one epoch.
struct PairKeys {
  crypto::PairwiseKey send;  // this relay -> peer
  crypto::PairwiseKey recv;  // peer -> this relay
};

// This relay's keys at one moment, immutable once built (rebuilt at each epoch change): work on
// workers keeps the snapshot it started with.
struct RelayKeys {
  std::shared_ptr<const EpochView> epochs;
  std::vector<std::map<uint64_t, PairKeys>> pairwise;  // by Peer::index, then epoch
  // The epoch keys the directory publishes, by Peer::index, then epoch.
  std::vector<std::map<uint64_t, crypto::PublicKey>> published;

  const PairKeys* pair(const Peer& p, uint64_t epoch) const;
  // The key the directory publishes for `p` in `epoch`, or null.
  const crypto::PublicKey* published_key(const Peer& p, uint64_t epoch) const;
};

// A packet inside the mix pool.
struct PoolItem {
  Bytes packet;
  Peer* next = nullptr;
  Micros arrived = 0;
  uint64_t durable_at = 0;  // the journal commit that makes it durable (0: nothing to wait for)
  bool journaled = true;    // false for cover packets, which the journal does not keep
  Micros mixed = 0;         // when it entered the mix (its mixing delay starts then)
};

// limits.cpp: what a connection has shown at the last look, to find one that has been waiting (a
// begun frame, or an inbound peer link whose peer is not known) with no finished frame for longer
// than limits.frame_timeout.
struct SlowWatch {
  bool waiting = false;  // it was waiting at the last look
  uint64_t frames = 0;   // frames it had delivered then
  Micros since = 0;      // since when it has been waiting without a finished frame
};

// Stage 1: the submissions of one read, prepared on a worker.
struct SubmitOutcome {
  uint64_t request_id = 0;
  Error error = Error::ok;
  Bytes packet;
  Peer* first = nullptr;
  Peer* destination = nullptr;  // the destination's relay (the last hop)
};
struct SubmitBatch {
  std::shared_ptr<const RelayKeys> keys;  // the keys when the batch was dispatched
  std::vector<Bytes> frames;
  std::vector<SubmitOutcome> outcomes;
  std::array<uint8_t, 32> seed{};  // the worker's generator, drawn from the relay's Rng
};
// One submit connection: answers follow the order of the submissions.
struct SubmitConn {
  std::shared_ptr<FramedStream> conn;
  OrderedBatches<SubmitBatch> batches;
  Bytes answers;       // framed answers of the batches finished in this completion
  Bytes final_answer;  // framed answer to a bad frame: sent after every earlier answer
  bool ended = false;  // no more frames will come: close once every answer is written
  bool accepted = false;  // this completion accepted a submission: its answers wait for a commit
  SlowWatch slow;
  // Answers of this connection waiting for a journal commit; later answers queue behind them.
  std::shared_ptr<std::size_t> behind_commits = std::make_shared<std::size_t>(0);
};

// Stage 4: the packet frames of one read from one inbound link, unwrapped on a worker.
struct PacketBatch {
  std::vector<Bytes> frames;  // whole packet frame bodies: type, sequence number, packet
  std::vector<Result<crypto::Unwrapped>> layers;
  std::vector<uint64_t> epochs;  // the epoch of each layer's key (when the layer has one)
  std::shared_ptr<const RelayKeys> keys;  // the keys when the batch began
  const Peer* peer = nullptr;  // the link's peer (its pairwise receive keys), if known
  int64_t wall = 0;            // wall µs when the batch began: picks epochs by parity
  bool pairwise = false;       // the peer shares pairwise keys with this relay
  bool onion_first = false;     // try the onion layer first (what this link mostly carried)
  std::size_t pairwise_hits = 0;
  uint64_t last_seq = 0;
  Micros arrived = 0;
};
struct InboundLink {
  std::shared_ptr<FramedStream> conn;
  std::shared_ptr<SecureStream> secure;
  bool identified = false;  // `peer` looked up from the security layer's identity
  bool applied = false;     // a batch was applied in this completion: commit it
  Peer* peer = nullptr;     // null: unknown peer, onion layers only
  OrderedBatches<PacketBatch> batches;
  // Trial order: a link from a provider carries pairwise layers, one from a mix onion layers;
  // trying the kind the last batch mostly had first saves a failed AEAD per packet.
  bool onion_first = false;
  uint64_t ack_upto = 0;  // highest sequence number applied in this completion
  std::string source;     // the connection's source address (limits.cpp), empty for Unix
  Micros accepted_at = 0;
  SlowWatch slow;
};

// Stage 5: a delivery waiting for the messenger server's acknowledgement.
struct PendingDelivery {
  Bytes frame;  // serialized Delivery
  Micros sent_at = kNever;  // kNever: not sent yet
  uint64_t durable_at = 0;  // the journal commit that makes it durable; not sent before
};

// What only a provider relay has: the submit interface and the deliver link.
struct ProviderSide {
  std::unique_ptr<Listener> submit_listener;
  std::unordered_map<FramedStream*, std::shared_ptr<SubmitConn>> submits;
  std::unique_ptr<Dialer> deliver_dialer;
  std::shared_ptr<FramedStream> deliver_conn;
  std::map<uint64_t, PendingDelivery> deliveries;  // by delivery id, unacknowledged
  std::deque<uint64_t> not_durable;  // ids of deliveries whose journal commit has not finished
  uint64_t next_delivery = 1;        // unique for the relay's life: kept in the journal
  std::unique_ptr<Timer> retry_timer;
};

inline constexpr std::size_t kMaxSubmitFrame = 1u << 20;

class RelayState {
 public:
  RelayState(RelayConfig config, RelayEnv env);

  // relay.cpp: lifecycle
  void start();
  void stop();
  void recover();
  void drain(Micros timeout, std::function<void()> done);
  bool drained() const;  // nothing left to send, and nothing waits for an acknowledgement
  void check_drained();
  void finish_drain();

  // durability.cpp: journal commits, and what waits for them
  // Commits the journal (with the checkpoint, if it changed); `then` runs once durable.
  void journal_commit(std::function<void()> then);
  void on_durable(uint64_t commit);
  bool save_checkpoint();  // true if it changed (and was recorded)
  WallMicros to_wall(Micros t) const;       // kNever -> kNoWallTime
  Micros from_wall(WallMicros t) const;     // kNoWallTime -> kNever
  // True while inbound links must not be read: deliveries or a peer queue at the bound, a failing
  // journal, or a drain.
  bool inbound_blocked() const;
  void maybe_resume_inbound();

  // 1 submit.cpp
  void on_submit_connection(std::shared_ptr<Stream> s);
  void on_submit_frame(SubmitConn& sc, Bytes frame);
  void on_submit_read_done(const std::shared_ptr<SubmitConn>& sc);
  // Parses, validates and wraps one submission. Touches no mutable relay state: it runs on
  // worker threads, with the batch's own `rng`.
  SubmitOutcome prepare_submission(ByteView frame, const RelayKeys& keys, Rng& rng) const;
  void finish_submissions(SubmitConn& sc, SubmitBatch& batch);
  void flush_answers(SubmitConn& sc);
  void send_answers(SubmitConn& sc, std::function<void()> send);
  void on_submit_end(SubmitConn& sc);
  // Mixes for a path in the current epoch of `keys` (only mixes with a key for it).
  std::vector<Peer*> choose_mixes(const RelayKeys& keys, Rng& rng) const;
  // True when `chosen` (from choose_mixes) is short of mix_hops although the directory has other
  // mixes: none of them publishes a key for the epoch, and a path must not go unmixed.
  bool mixes_unkeyed(const std::vector<Peer*>& chosen) const;
  // `unknown_destination` if a hop has no key for the current epoch of `keys`.
  Result<Bytes> wrap_for(const RelayKeys& keys, const std::vector<Peer*>& path,
                         crypto::HopCommand command, ByteView payload, Rng& rng) const;
  std::size_t peer_load(const Peer& p) const;
  Error admit(const Peer& first) const;

  // 2 mix_stage.cpp
  // A packet enters the pool (and, unless it is cover, the journal).
  void mix_add(Peer* next, Bytes packet, Micros arrived, bool journaled = true);
  // Pool items whose journal commit (number `commit` or earlier) finished enter the mix.
  void mix_durable(uint64_t commit);
  // A packet recovered from the journal goes back into the pool, due at `due` (kNever: none).
  void mix_restore(Peer* next, Bytes packet, uint64_t item, Micros due);
  void on_mix_timer();
  // A reload's new mix parameters (reconfigure.cpp): see retiring_mixes_.
  void replace_mix(const MixConfig& next);
  void move_to_current_mix(Mix& from);
  void settle_retiring_mixes();
  std::size_t pooled() const;  // packets in mix_ and the retiring mixes
  void arm_mix_timer();

  // 3 link_out.cpp
  Peer* peer_by_id(const crypto::RelayId& id);
  Peer* peer_by_name(const std::string& name);
  void send_to_peer(Peer& p, Bytes packet, uint64_t journal_item);
  void on_peer_connected(Peer& p, std::shared_ptr<Stream> s);
  void on_peer_frame(Peer& p, ByteView body);
  void update_queue_gauge();

  // 4 link_in.cpp
  void on_inbound_connection(std::shared_ptr<Stream> s);
  void on_inbound_frame(InboundLink& link, Bytes frame);
  void on_inbound_read_done(const std::shared_ptr<InboundLink>& link);
  void finish_packets(InboundLink& link, PacketBatch& batch);
  void after_packets(InboundLink& link);
  void apply_layer(Result<crypto::Unwrapped>& layer, uint64_t epoch, Micros arrived);

  // 5 deliver.cpp
  void deliver_bundle(ByteView payload);
  void queue_delivery(Delivery& d);
  void on_deliver_connected(std::shared_ptr<Stream> s);
  void on_deliver_frame(ByteView frame);
  void on_deliver_retry();

  // epochs.cpp: epoch switches and key wipes
  // Builds the key snapshot of wall time `now` (keys held, pairwise keys with every peer).
  std::shared_ptr<const RelayKeys> build_keys(int64_t now) const;
  void on_epoch_timer();
  void refresh_keys();
  void arm_epoch_timer();
  void retire_epochs();
  // What the newer directory changes that needs a restart (empty: all of it applies now).
  std::vector<std::string> update_directory(const std::vector<PeerConfig>& directory,
                                            const EpochTiming& timing);
  // Decodes one packet's layer under the keys `b` holds, at its epoch; sets `epoch`.
  static Result<crypto::Unwrapped> unwrap_layer(const PacketBatch& b, ByteView packet,
                                                uint64_t& epoch, bool& pairwise_layer);

  // limits.cpp
  bool admit_inbound_connection(const Stream& s);
  void forget_inbound_source(const std::string& source);
  bool admit_submit_connection();
  bool take_submit_token(Peer& destination);
  void arm_limits_timer();
  void on_limits_timer();
  // Whether `conn` broke a limit at this look (then it is closed and counted).
  // `unidentified`: no relay of the directory is known to be at the other end yet (that is
  // waited for too).
  bool check_connection(FramedStream& conn, SlowWatch& w, bool unidentified, Counter slow,
                        Counter unread);
  // Whether the link's security layer named a relay of the directory.
  bool identified(const InboundLink& l);

  // cover_traffic.cpp
  void on_cover_timer();
  void arm_cover_timer();
  bool congested(const Peer& first) const;
  void send_drop_cover();
  void send_loop_cover();
  void on_loop_returned(ByteView payload);

  RelayConfig config_;
  Role role_;
  RelayEnv env_;
  std::shared_ptr<const RelayKeys> keys_;  // now; replaced at each epoch change
  std::unique_ptr<Timer> epoch_timer_;
  std::function<void(uint64_t)> epoch_listener_;
  std::function<void(const RelayEvent&)> event_listener_;
  void emit(RelayEvent::Kind kind, const std::string& peer = {}) {
    if (event_listener_) event_listener_(RelayEvent{kind, peer});
  }
  uint64_t retired_below_ = 0;  // replay epochs below this are forgotten
  Metrics metrics_;

  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<PeerConfig> peer_configs_;  // the same order as peers_ (for parse_submission)
  std::vector<std::shared_ptr<InboundLink>> inbound_;
  std::unique_ptr<Listener> peer_listener_;
  std::unordered_map<std::string, std::size_t> inbound_by_source_;  // open inbound links per source
  std::unique_ptr<Timer> limits_timer_;
  std::optional<ProviderSide> provider_;  // set iff role_ == Role::provider

  std::unique_ptr<Mix> mix_;
  // Mixes replaced by a reload that still hold packets: each releases them under its own rule and
  // schedule (a pooled packet keeps its release time); new packets enter mix_.
  std::vector<std::unique_ptr<Mix>> retiring_mixes_;
  std::unordered_map<uint64_t, PoolItem> pool_;  // by journal item
  uint64_t next_item_ = 1;
  std::unique_ptr<Timer> mix_timer_;
  // Pool items not yet in the mix: they enter it (and its schedule starts) once durable, in
  // order of their commits.
  std::deque<uint64_t> not_mixed_;

  uint64_t commits_made_ = 0;     // journal commits called
  uint64_t commits_durable_ = 0;  // journal commits finished (in order)
  JournalCheckpoint checkpoint_;  // the last one recorded
  int64_t wall_offset_ = 0;       // wall-clock µs minus monotonic µs, at construction

  ReplayFilter replay_;

  PoissonSchedule drop_schedule_;
  PoissonSchedule loop_schedule_;
  LoopTracker loops_;
  std::unique_ptr<Timer> cover_timer_;

  bool started_ = false;
  bool stopped_ = false;
  bool draining_ = false;
  std::function<void()> drained_;  // runs once the drain finished
  std::unique_ptr<Timer> drain_timer_;
};

}  // namespace veil::relay

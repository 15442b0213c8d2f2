// Internal state shared by the relay's translation units: peers, inbound links, link frames.
#pragma once

#include "proxy/relay/relay.h"

namespace veil::relay {

// Peer-link frame types (first byte of a frame body).
enum class LinkFrame : uint8_t {
  hello = 1,   // body: the sending relay's name
  packet = 2,  // body: u64 link sequence number || packet
  ack = 3,     // body: u64 highest sequence number processed (cumulative)
};

struct Relay::Peer {
  PeerConfig config;
  std::optional<crypto::PairwiseKey> send_key;  // this relay -> peer
  std::optional<crypto::PairwiseKey> recv_key;  // peer -> this relay
  std::unique_ptr<Dialer> dialer;
  std::shared_ptr<Connection> conn;
  bool hello_sent = false;
  std::deque<Unacked> unacked;   // sent on the current connection, not yet acknowledged
  std::deque<Unacked> waiting;   // not yet sent (no connection)
  uint64_t next_seq = 1;
  std::size_t in_pool = 0;       // packets for this peer still inside the mix
};

// Packets of one read from one inbound link, unwrapped on a worker thread.
struct Relay::PacketBatch {
  uv_work_t req{};
  Relay* relay = nullptr;
  std::shared_ptr<InboundLink> link;
  std::optional<crypto::PairwiseKey> pairwise;  // the link's receive key, if the peer has one
  bool onion_first = false;  // try the onion layer first (what this link mostly carried)
  std::size_t pairwise_hits = 0;  // how many layers were pairwise, for the next batch's order
  std::vector<Bytes> packets;  // whole packet frames: type, sequence number, packet
  std::vector<Result<crypto::Unwrapped>> layers;
  uint64_t last_seq = 0;
  Micros arrived = 0;
  bool done = false;
};

struct Relay::InboundLink {
  std::shared_ptr<Connection> conn;
  Peer* peer = nullptr;  // known after hello
  std::unique_ptr<PacketBatch> building;
  std::deque<std::unique_ptr<PacketBatch>> in_flight;  // completed strictly in order
  // Trial order: a link from a provider carries pairwise layers, one from a mix onion layers;
  // trying the kind the last batch mostly had first saves a failed AEAD per packet.
  bool onion_first = false;
};

// Submissions of one read from one submit connection, prepared on a worker thread.
struct Relay::SubmitBatch {
  uv_work_t req{};
  Relay* relay = nullptr;
  std::shared_ptr<SubmitState> state;  // keeps the state alive after the connection closed
  std::vector<Bytes> frames;
  std::vector<SubmitOutcome> outcomes;
  bool done = false;
};

// One submit connection: batches complete strictly in order, so answers (and `busy` verdicts)
// follow the order of the submissions.
struct Relay::SubmitState {
  std::shared_ptr<Connection> conn;
  std::unique_ptr<SubmitBatch> building;
  std::deque<std::unique_ptr<SubmitBatch>> in_flight;
  bool ended = false;  // no more frames will come: close once every answer is written
};

// The calling worker thread's generator (each thread seeds its own from the system).
Rng& worker_rng();

inline void put_u64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

inline uint64_t get_u64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | in[i];
  return v;
}

inline constexpr std::size_t kMaxSubmitFrame = 1u << 20;

}  // namespace veil::relay

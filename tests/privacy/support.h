// Privacy-suite harness: loopback deployments (relay-alpha [-> mix-i] -> relay-beta, from
// proxy/sim/deployment.h) with per-link taps, submissions, and ground truth by peeling captured
// packets with the relays' own keys (the test holds every key; the adversaries it models do not).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "crypto/packet_layer.h"
#include "proxy/sim/deployment.h"
#include "proxy/sim/socket.h"
#include "relay.pb.h"

namespace veil::privacy {

namespace sim = veil::sim;
using sim::Clock;
using sim::Millis;

using sim::kAlpha;
using sim::kAlphaProvider;
using sim::kBeta;
using sim::kBetaProvider;

using sim::Delivered;
using sim::Deployment;
using sim::Spec;
using sim::v1_submission;
using sim::v2_submission;
using sim::wait_until;
using sim::wall_ms;
using sim::Watchdog;

// Seconds from `t0` to `t`.
double secs(Clock::time_point t0, Clock::time_point t);

// One line on stdout, prefixed "[privacy] " (ctest -V and --output-on-failure show it).
void report(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// The ground truth of one captured packet, peeled with the keys of every relay on its path.
struct Peeled {
  bool ok = false;
  crypto::HopCommand command = crypto::HopCommand::drop;  // the innermost command
  std::vector<std::string> hops;  // relays that removed a layer, in order
  Bytes payload;                  // the innermost payload
  std::string envelope;           // deliver payloads: the bundle's envelope
};

// Removes every layer of `packet` captured on from -> to with the keys of `d`'s relays.
Peeled peel(const Deployment& d, ByteView packet, const std::string& from, const std::string& to);

// One submit connection used one submission at a time (send, then wait for the answer).
class Submitter {
 public:
  explicit Submitter(uint16_t port);
  veil::relay::SubmitAnswer submit(const veil::relay::Submission& s);
  // The local (source) port of this submit connection.
  uint16_t local_port() const { return sock_.local_port(); }

 private:
  sim::Socket sock_;
};

// Peer-link frame bodies (proxy/relay/core/link_frame.h): hello = 1 || name, packet = 2 || u64 seq
// || packet, ack = 3 || u64 seq.
inline constexpr uint8_t kFrameHello = 1;
inline constexpr uint8_t kFramePacket = 2;
inline constexpr uint8_t kFrameAck = 3;
Bytes packet_frame(uint64_t seq, ByteView packet);

}  // namespace veil::privacy

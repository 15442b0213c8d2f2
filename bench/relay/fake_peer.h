// Fake relays at the edges of a throughput run: a sink that counts and acknowledges packets, over
// plain or TLS links.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "bench/relay/bench_link.h"
#include "proxy/sim/accept_loop.h"
#include "proxy/sim/socket.h"

namespace veil::bench {

// Accepts one peer link, counts packet frames and acknowledges them cumulatively.
class PacketSink {
 public:
  explicit PacketSink(std::size_t packet_size);
  ~PacketSink();
  uint16_t port() const { return loop_.port(); }
  // Serves the links accepted from now on with TLS as `tls` (the sink's identity); call before
  // the relay that dials it starts.
  void use_tls(std::shared_ptr<LinkTls> tls);
  // The TLS end's counts (all zero for plain links).
  relay::LinkSecurityStats tls_stats();
  uint64_t packets() const { return packets_; }
  uint64_t bad_size() const { return bad_size_; }
  // Arrival times of packets (steady clock, ns), recorded only while `record` is on.
  void record(bool on) { record_ = on; }
  std::vector<int64_t> arrivals() const;

 private:
  void serve(sim::Socket& s);
  sim::AcceptLoop loop_;
  std::size_t packet_size_;
  std::shared_ptr<LinkTls> tls_;  // under mu_
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> bad_size_{0};
  std::atomic<bool> record_{false};
  mutable std::mutex mu_;
  std::vector<int64_t> arrivals_;
};

inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace veil::bench

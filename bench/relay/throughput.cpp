// Throughput, latency and memory runs against real veil-relay processes (see throughput.h).
#include "bench/relay/throughput.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench/relay/fake_peer.h"
#include "bench/relay/harness.h"
#include "crypto/keys.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/framing.h"
#include "proxy/sim/network.h"

namespace veil::bench {
namespace {

int sidecar(int cores, double seconds, const std::vector<Bytes>& frames) {
  RelaySetup s("relay-sidecar", true, base_settings());
  s.start(cores);
  std::atomic<bool> stop{false};
  PipelineResult result;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, 8192, 0, nullptr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // warm-up
  const uint64_t p0 = s.sink->packets();
  const int64_t t0 = steady_ns();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t p1 = s.sink->packets();
  const int64_t t1 = steady_ns();
  stop = true;
  gen.join();
  const bool drained = wait_for(*s.sink, result.accepted, 10);
  const double rate = static_cast<double>(p1 - p0) / (static_cast<double>(t1 - t0) / 1e9);
  const uint64_t lost = result.accepted > s.sink->packets() ? result.accepted - s.sink->packets() : 0;
  std::printf("{\"impl\":\"veil\",\"op\":\"relay_sidecar\",\"cores\":%d,\"msgs_per_s\":%.0f,"
              "\"accepted\":%llu,\"rejected\":%llu,\"delivered_to_peer\":%llu,\"lost\":%llu,"
              "\"bad_size\":%llu,\"note\":\"submit (SSv1, 300-800 B) -> pairwise layer -> peer, "
              "mix none, 4096 B packets; closed loop, window 8192; load generator and sink on core 0\"}\n",
              cores, rate, static_cast<unsigned long long>(result.accepted),
              static_cast<unsigned long long>(result.rejected),
              static_cast<unsigned long long>(s.sink->packets()), static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(s.sink->bad_size()));
  std::fflush(stdout);
  return drained && lost == 0 ? 0 : 1;
}

// Unwrap throughput: a fake upstream relay sends onion packets to a mix that forwards them to the
// sink. The speed of these virtual CPUs drifts by tens of percent within seconds, so the run
// alternates: X25519 bound (relay idle) / measured window / bound / window / ... / bound, and each
// window is compared with the mean of the bounds on either side of it.
int unwrap(int cores, double seconds) {
  constexpr int kRounds = 4;
  constexpr double kRefill = 0.3;  // seconds of traffic before each window is measured
  constexpr double kBoundSeconds = 0.5;
  RelaySetup s("mix-unwrap", false, base_settings());
  // A fake upstream relay "gen" that sends onion packets to the mix.
  sim::RelayNode gen = sim::make_node("gen", "", s.rng);
  s.nodes.push_back(gen);
  const double estimate = x25519_rate(0, 1, 0.5) * cores;
  const auto count = static_cast<std::size_t>(
      std::min(estimate * (seconds + kRounds * kRefill + 0.5) * 1.1, 600000.0));
  std::vector<Bytes> frames =
      mix_packet_frames(count, s.nodes[0].epoch_key->pub, s.nodes[0].name, s.sink_node.epoch_key->pub);
  s.start(cores);
  sim::Socket sock = sim::Socket::connect_tcp(s.nodes[0].peer_port);
  Bytes hello{1};
  append(hello, as_bytes(std::string("gen")));
  sock.send_frame(hello);
  std::atomic<uint64_t> acked{0};
  std::thread reader([&] {
    while (auto f = sock.recv_frame()) {
      if (f->size() == 9 && (*f)[0] == 3) {
        uint64_t seq = 0;
        for (int i = 1; i <= 8; ++i) seq = seq << 8 | (*f)[static_cast<std::size_t>(i)];
        acked = seq;
      }
    }
  });
  std::atomic<bool> stop{false}, sending{false};
  std::atomic<uint64_t> sent{0};
  std::thread writer([&] {
    Bytes batch;
    uint64_t n = 0;
    while (!stop && n < count) {
      if (!sending || n - acked >= 4096) {
        std::this_thread::sleep_for(std::chrono::microseconds(sending ? 20 : 500));
        continue;
      }
      batch.clear();
      for (int k = 0; k < 16 && n < count; ++k) {
        Bytes& f = frames[n++];
        for (int b = 0; b < 8; ++b) f[5 + static_cast<std::size_t>(b)] = static_cast<uint8_t>(n >> (8 * (7 - b)));
        append(batch, f);
      }
      if (!sock.send_all(batch)) break;
      sent = n;
    }
  });
  // Waits until every packet sent so far has reached the sink (the relay is idle again).
  auto settle = [&] { return wait_for(*s.sink, sent, 10); };
  std::vector<double> bounds{x25519_rate(1, cores, kBoundSeconds)};
  double packets = 0, bound_packets = 0, wall = 0, cpu = 0;
  bool drained = true;
  for (int round = 0; round < kRounds; ++round) {
    sending = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(kRefill));
    const uint64_t q0 = s.sink->packets();
    const int64_t t0 = steady_ns();
    const double c0 = cpu_seconds(s.relay->pid());
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds / kRounds));
    const uint64_t q1 = s.sink->packets();
    const int64_t t1 = steady_ns();
    const double c1 = cpu_seconds(s.relay->pid());
    sending = false;
    drained = settle() && drained;
    bounds.push_back(x25519_rate(1, cores, kBoundSeconds));
    const double w = static_cast<double>(t1 - t0) / 1e9;
    packets += static_cast<double>(q1 - q0);
    bound_packets += w * (bounds[bounds.size() - 2] + bounds.back()) / 2;
    wall += w;
    cpu += c1 - c0;
  }
  stop = true;
  writer.join();
  drained = settle() && drained;
  sock.shutdown_write();
  ::shutdown(sock.fd(), SHUT_RDWR);
  reader.join();
  const double rate = packets / wall;
  const double bound = bound_packets / wall;
  const double cores_used = cpu / wall;
  const auto [lo, hi] = std::minmax_element(bounds.begin(), bounds.end());
  const uint64_t lost = sent > s.sink->packets() ? sent - s.sink->packets() : 0;
  std::printf("{\"impl\":\"veil\",\"op\":\"relay_unwrap\",\"cores\":%d,\"msgs_per_s\":%.0f,"
              "\"x25519_bound\":%.0f,\"x25519_bound_min\":%.0f,\"x25519_bound_max\":%.0f,"
              "\"fraction_of_bound\":%.3f,\"relay_cpu_cores_used\":%.2f,"
              "\"fraction_of_bound_for_cpu_used\":%.3f,\"sent\":%llu,\"lost\":%llu,"
              "\"note\":\"onion layer (1 X25519) -> replay check -> mix none -> peer; 4096 B packets; "
              "bound = X25519 ops/s with one thread per relay core (relay idle), measured between the "
              "%d windows; load generator and sink on core 0\"}\n",
              cores, rate, bound, *lo, *hi, rate / bound, cores_used,
              rate / (bound / cores * std::max(cores_used, 1e-9)),
              static_cast<unsigned long long>(sent.load()), static_cast<unsigned long long>(lost),
              kRounds);
  std::fflush(stdout);
  return drained && lost == 0 ? 0 : 1;
}

int latency(double seconds, const std::vector<Bytes>& frames) {
  RelaySetup s("relay-latency", true, base_settings());
  s.start(1);
  s.sink->record(true);
  std::atomic<bool> stop{false};
  std::vector<int64_t> sends;
  sends.reserve(static_cast<std::size_t>(seconds * 1000 + 100));
  PipelineResult result;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, 1 << 20, 1000, &sends); });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  gen.join();
  wait_for(*s.sink, result.accepted, 5);
  const auto arrivals = s.sink->arrivals();
  std::vector<double> lat_us;
  for (std::size_t i = 0; i < std::min(arrivals.size(), sends.size()); ++i) {
    lat_us.push_back(static_cast<double>(arrivals[i] - sends[i]) / 1000.0);
  }
  std::printf("{\"impl\":\"veil\",\"op\":\"relay_added_latency\",\"rate\":1000,\"samples\":%zu,"
              "\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f,\"note\":\"submit sent -> packet "
              "received by the peer, mix none, one core; includes two loopback TCP hops\"}\n",
              lat_us.size(), quantile(lat_us, 0.5), quantile(lat_us, 0.99),
              lat_us.empty() ? 0.0 : *std::max_element(lat_us.begin(), lat_us.end()));
  std::fflush(stdout);
  return 0;
}

int memory(const std::vector<Bytes>& frames) {
  nlohmann::json settings = base_settings();
  settings["mix"] = {{"strategy", "timed"}, {"interval_ms", 600000}};  // everything stays pooled
  RelaySetup s("relay-memory", true, settings);
  s.start(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long before = rss_kib(s.relay->pid());
  std::atomic<bool> stop{false};
  PipelineResult result;
  const std::size_t target = 20000;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, 2048, 0, nullptr); });
  const int64_t deadline = steady_ns() + 30'000'000'000;
  while (steady_ns() < deadline) {
    const auto m = s.relay->metrics();
    if (m.contains("gauges") && m["gauges"]["pool"].get<uint64_t>() >= target) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  gen.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const long after = rss_kib(s.relay->pid());
  const auto pooled = s.relay->metrics()["gauges"]["pool"].get<uint64_t>();
  const double per = static_cast<double>(after - before) * 1024.0 / static_cast<double>(std::max<uint64_t>(pooled, 1));
  std::printf("{\"impl\":\"veil\",\"op\":\"relay_memory_per_pooled_packet\",\"pooled\":%llu,"
              "\"bytes_per_packet\":%.0f,\"ratio_to_packet_size\":%.3f,\"note\":\"RSS growth / "
              "pooled packets, timed mix holding everything, 4096 B packets\"}\n",
              static_cast<unsigned long long>(pooled), per, per / kPacketSize);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int run_throughput_bench(const ThroughputOptions& o) {
  pin_self(0, 1);  // load generator and sink: core 0, including every thread started from here
  SystemRng rng;
  const std::vector<Bytes> frames = submission_frames(2000, rng);
  const double seconds = o.quick ? 2 : o.seconds;
  std::vector<int> core_counts = o.cores > 0 ? std::vector<int>{o.cores} : std::vector<int>{1, 2};
  int rc = 0;
  if (o.mode == "all" || o.mode == "sidecar") {
    for (int c : core_counts) rc |= sidecar(c, seconds, frames);
  }
  if (o.mode == "all" || o.mode == "unwrap") {
    for (int c : core_counts) rc |= unwrap(c, seconds);
  }
  if (o.mode == "all" || o.mode == "latency") rc |= latency(o.quick ? 2 : 5, frames);
  if (o.mode == "all" || o.mode == "memory") rc |= memory(frames);
  return rc;
}

}  // namespace veil::bench

// Shared pieces of the relay benchmarks (see harness.h).
#include "bench/relay/harness.h"

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "crypto/keys.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/framing.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/messenger.h"
#include "relay.pb.h"

namespace veil::bench {

void pin_self(int first_core, int cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int n = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  for (int i = 0; i < cores; ++i) CPU_SET((first_core + i) % n, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double cpu_seconds_in(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double cpu_seconds(pid_t pid) { return cpu_seconds_in("/proc/" + std::to_string(pid) + "/stat"); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
}

double round_to(double x, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void wait_idle(pid_t pid) {
  for (int i = 0; i < 30; ++i) {
    const double c0 = cpu_seconds(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (cpu_seconds(pid) - c0 < 0.015) return;
  }
}

double x25519_rate(int first_core, int cores, double seconds) {
  std::vector<double> rates(static_cast<std::size_t>(cores));
  std::vector<std::thread> threads;
  for (int c = 0; c < cores; ++c) {
    threads.emplace_back([&, c] {
      pin_self(first_core + c, 1);
      SystemRng rng;
      const crypto::KeyPair a = crypto::KeyPair::generate(rng);
      const crypto::KeyPair b = crypto::KeyPair::generate(rng);
      std::array<uint8_t, 32> out{};
      long n = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      do {
        for (int i = 0; i < 100; ++i) (void)a.priv.agree(b.pub, out);
        n += 100;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (elapsed < seconds);
      rates[static_cast<std::size_t>(c)] = static_cast<double>(n) / elapsed;
    });
  }
  for (auto& t : threads) t.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

RelaySetup::RelaySetup(const std::string& name, bool provider, const nlohmann::json& settings)
    : scratch("bench-" + name) {
  sink = std::make_unique<PacketSink>(kPacketSize);
  sink_node = sim::make_node("sink", "sink.example", rng);
  sink_node.peer_port = sink->port();
  sink_node.dial_port = sink->port();
  nodes.push_back(sim::make_node(name, provider ? "bench.example" : "", rng));
  nodes[0].settings = settings;
  nodes.push_back(sink_node);
}

double RelaySetup::spawn(int cores, int ready_timeout_ms) {
  // The relay inherits the affinity at spawn, so all its threads get core 1 (and 0 when
  // cores == 2); this process stays on core 0.
  pin_self(1, cores);
  const int64_t t0 = steady_ns();
  relay = std::make_unique<sim::RelayProcess>(nodes[0], nodes, scratch.path());
  pin_self(0, 1);
  relay->wait_ready(ready_timeout_ms);
  return static_cast<double>(steady_ns() - t0) / 1e9;
}

void RelaySetup::start(int cores, int ready_timeout_ms) {
  spawn(cores, ready_timeout_ms);
  for (int i = 0; i < 200 && sink->packets() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (i > 30) break;
  }
}

RelaySetup::~RelaySetup() {
  relay.reset();
  sink.reset();
}

std::string RelaySetup::journal_dir() const { return (scratch.path() / (nodes[0].name + ".journal")).string(); }

std::string RelaySetup::metrics_file() const {
  return (scratch.path() / (nodes[0].name + ".metrics.json")).string();
}

nlohmann::json base_settings() {
  return {{"mix", {{"strategy", "none"}}},
          {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}},
          {"mix_hops", 0},
          {"packet_size", kPacketSize},
          {"per_peer_queue", 1000000},
          {"metrics_interval_ms", 1000},
          {"plain_links", true}};
}

std::vector<Bytes> mix_packet_frames(std::size_t count, const crypto::PublicKey& mix_key,
                                     const std::string& mix_name, const crypto::PublicKey& sink_key) {
  std::vector<Bytes> frames(count);
  const crypto::Hop hops[2] = {{mix_key, relay::relay_id(mix_name), nullptr},
                               {sink_key, relay::relay_id("sink"), nullptr}};
  auto prep = [&](std::size_t from, std::size_t step) {
    pin_self(static_cast<int>(from), 1);
    SystemRng rng;
    Bytes payload(64);
    for (std::size_t i = from; i < count; i += step) {
      Bytes body(9, 0);
      body[0] = 2;
      append(body, *crypto::wrap_packet(hops, crypto::HopCommand::deliver, payload, kPacketSize, rng));
      frames[i] = relay::frame(body);
    }
  };
  std::thread t1(prep, 0, 2), t2(prep, 1, 2);
  t1.join();
  t2.join();
  return frames;
}

std::vector<Bytes> submission_frames(std::size_t count, Rng& rng) {
  sim::Provider from = sim::Provider::create("bench.example", 4, 4102444800000, rng);
  sim::Provider to = sim::Provider::create("sink.example", 16, 4102444800000, rng);
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = from.accounts[i % from.accounts.size()];
    const auto& r = to.accounts[i % to.accounts.size()];
    Bytes content(160 + rng.uniform(400));
    rng.fill(content);
    const Bytes env = sim::seal_v1_to(s, r, content, rng);
    veil::relay::Submission sub;
    sub.set_request_id(i);
    sub.set_destination("sink.example");
    auto* rc = sub.add_recipients();
    rc->set_service_id(r.uuid);
    rc->add_devices(1);
    sub.set_access_key(r.access_key.data(), r.access_key.size());
    sub.set_envelope(env.data(), env.size());
    frames.push_back(relay::frame(as_bytes(sub.SerializeAsString())));
  }
  return frames;
}

PipelineResult run_submitter(uint16_t port, const std::vector<Bytes>& frames, std::atomic<bool>& stop,
                             std::size_t window, double rate_per_s,
                             std::vector<int64_t>* send_times, uint64_t limit) {
  sim::Socket sock = sim::Socket::connect_tcp(port);
  std::atomic<uint64_t> answered{0}, accepted{0};
  // The sender sleeps while the window is full and the reader wakes it: a sender spinning on
  // yield() would take CPU from the relay's threads that share its core.
  std::mutex mu;
  std::condition_variable room;
  std::atomic<bool> full{false};
  std::thread reader([&] {
    std::vector<uint8_t> buf(1 << 20);
    std::size_t have = 0;
    for (;;) {
      const long n = sock.recv_some(buf.data() + have, buf.size() - have);
      if (n <= 0) return;
      have += static_cast<std::size_t>(n);
      std::size_t pos = 0;
      while (have - pos >= 4) {
        const std::size_t len = static_cast<std::size_t>(buf[pos]) << 24 | static_cast<std::size_t>(buf[pos + 1]) << 16 |
                                static_cast<std::size_t>(buf[pos + 2]) << 8 | buf[pos + 3];
        if (have - pos < 4 + len) break;
        veil::relay::SubmitAnswer a;
        a.ParseFromArray(buf.data() + pos + 4, static_cast<int>(len));
        if (a.status() == veil::relay::SubmitAnswer::ACCEPTED) ++accepted;
        ++answered;
        pos += 4 + len;
      }
      std::copy(buf.begin() + static_cast<std::ptrdiff_t>(pos), buf.begin() + static_cast<std::ptrdiff_t>(have), buf.begin());
      have -= pos;
      if (full) {
        { std::lock_guard<std::mutex> lock(mu); }
        room.notify_one();
      }
    }
  });
  PipelineResult r;
  Bytes batch;
  std::size_t i = 0;
  const int64_t start = steady_ns();
  while (!stop && (limit == 0 || r.sent < limit)) {
    if (rate_per_s > 0) {
      const auto due = start + static_cast<int64_t>(static_cast<double>(r.sent) * 1e9 / rate_per_s);
      // Sleep rather than spin: the sink that timestamps arrivals shares this core.
      const int64_t wait = due - steady_ns();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      if (send_times) send_times->push_back(steady_ns());
      if (!sock.send_all(frames[i++ % frames.size()])) break;
      ++r.sent;
      continue;
    }
    if (r.sent - answered >= window) {
      std::unique_lock<std::mutex> lock(mu);
      full = true;
      room.wait_for(lock, std::chrono::milliseconds(1), [&] { return r.sent - answered < window || stop; });
      full = false;
      continue;
    }
    const uint64_t n = limit == 0 ? 32 : std::min<uint64_t>(32, limit - r.sent);
    batch.clear();
    for (uint64_t k = 0; k < n; ++k) append(batch, frames[i++ % frames.size()]);
    if (!sock.send_all(batch)) break;
    r.sent += n;
  }
  const int64_t deadline = steady_ns() + 10'000'000'000;
  while (answered < r.sent && steady_ns() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sock.shutdown_write();
  ::shutdown(sock.fd(), SHUT_RDWR);
  reader.join();
  r.accepted = accepted;
  r.rejected = answered - accepted;
  return r;
}

bool wait_for(const PacketSink& sink, uint64_t count, double seconds) {
  const int64_t deadline = steady_ns() + static_cast<int64_t>(seconds * 1e9);
  while (sink.packets() < count && steady_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return sink.packets() >= count;
}

}  // namespace veil::bench

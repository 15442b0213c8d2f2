// `veil-bench tls`, part 2: one layer of unwrapping in a mix with plain links and in one with TLS
// links, each window compared with the X25519 bound measured on either side of it.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "bench/relay/bench_link.h"
#include "bench/relay/tls_parts.h"
#include "crypto/packet_layer.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/framing.h"

namespace veil::bench {
namespace {

using nlohmann::json;

constexpr uint64_t kInFlight = 4096;  // packets sent and not yet acknowledged, at most

// A fake upstream relay "gen" that sends pre-built onion packets to the mix over one peer link,
// plain (after a hello frame naming it) or TLS (its identity proves it). Sends only while asked.
class Upstream {
 public:
  Upstream(RelaySetup& s, const std::vector<Bytes>& frames, std::shared_ptr<LinkTls> tls)
      : frames_(frames), socket_(sim::Socket::connect_tcp(s.nodes[0].peer_port)) {
    link_ = tls ? std::make_unique<LinkChannel>(socket_, std::move(tls), s.nodes[0].name)
                : std::make_unique<LinkChannel>(socket_);
    if (!tls) {
      Bytes hello{1};
      append(hello, as_bytes(std::string("gen")));
      link_->send_all(relay::frame(hello));
    }
    reader_ = std::thread([this] { read_acks(); });
    writer_ = std::thread([this] { write_packets(); });
  }
  ~Upstream() {
    stop_ = true;
    writer_.join();
    ::shutdown(socket_.fd(), SHUT_RDWR);
    reader_.join();
  }
  void start_sending() { sending_ = true; }
  // Returns once the writer is between batches with sending off.
  void stop_sending() {
    sending_ = false;
    std::lock_guard<std::mutex> lock(batch_mu_);
  }
  uint64_t sent() const { return sent_; }
  bool ran_out() const { return sent_ >= frames_.size(); }

 private:
  void read_acks() {
    std::vector<uint8_t> buf(1 << 16);
    relay::FrameDecoder frames(64);
    for (;;) {
      const long n = link_->recv_some(buf.data(), buf.size());
      if (n <= 0) return;
      frames.feed(ByteView(buf.data(), static_cast<std::size_t>(n)));
      for (;;) {
        auto f = frames.next();
        if (!f || !*f) break;
        const Bytes& body = **f;
        if (body.size() == 9 && body[0] == 3) {
          uint64_t seq = 0;
          for (int i = 1; i <= 8; ++i) seq = seq << 8 | body[static_cast<std::size_t>(i)];
          acked_ = seq;
        }
      }
    }
  }

  // Frames are u32 length || 0x02 || u64 seq || packet; the seq is set in the copy sent.
  void write_packets() {
    Bytes batch;
    uint64_t n = 0;
    while (!stop_ && n < frames_.size()) {
      std::unique_lock<std::mutex> lock(batch_mu_);
      if (!sending_ || n - acked_ >= kInFlight) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::microseconds(sending_ ? 20 : 500));
        continue;
      }
      batch.clear();
      for (int k = 0; k < 16 && n < frames_.size(); ++k) {
        const std::size_t at = batch.size();
        append(batch, frames_[n++]);
        for (int b = 0; b < 8; ++b) batch[at + 5 + static_cast<std::size_t>(b)] = static_cast<uint8_t>(n >> (8 * (7 - b)));
      }
      if (!link_->send_all(batch)) break;
      sent_ = n;
    }
  }

  const std::vector<Bytes>& frames_;
  sim::Socket socket_;
  std::unique_ptr<LinkChannel> link_;
  std::mutex batch_mu_;  // held by the writer while it sends a batch
  std::atomic<bool> stop_{false}, sending_{false};
  std::atomic<uint64_t> sent_{0}, acked_{0};
  std::thread reader_, writer_;
};

struct Side {
  Side(bool tls_links, bool journal) : tls(tls_links), s("mix", false, link_settings(tls_links, journal)) {
    s.nodes.push_back(sim::make_node("gen", "", s.rng));
  }
  bool tls;
  RelaySetup s;
  std::unique_ptr<Upstream> up;
  double packets = 0, bound_packets = 0, wall = 0, cpu = 0;
  bool drained = true, ran_out = false;
  json windows = json::array();
};

}  // namespace

UnwrapTls tls_unwrap(const TlsBenchOptions& o, int& rc) {
  constexpr double kRefill = 0.3;  // seconds of traffic before each window is measured
  constexpr double kBoundSeconds = 0.5;
  UnwrapTls out;
  Side plain(false, o.journal), tls(true, o.journal);
  // Both mixes have one name and one epoch key, so one set of packets serves both (each has its
  // own replay filter).
  tls.s.nodes[0].epoch_key = plain.s.nodes[0].epoch_key;
  secure_links(tls.s);
  const int windows_each = o.unwrap_rounds;
  const double estimate = x25519_rate(0, 1, 0.5) * o.cores;
  // Enough for 85 % of the bound (above any share measured so far) with a margin; each packet is
  // 4 KiB and costs more than one X25519 to build, so no more than that.
  const auto count = static_cast<std::size_t>(
      std::min(estimate * 0.85 * windows_each * (o.unwrap_seconds + kRefill) * 1.15 + 5000, 400000.0));
  const int64_t p0 = steady_ns();
  std::vector<Bytes> frames =
      mix_packet_frames(count, plain.s.nodes[0].epoch_key->pub, "mix", plain.s.sink_node.epoch_key->pub);
  const double prep_s = static_cast<double>(steady_ns() - p0) / 1e9;
  plain.s.start(o.cores);
  tls.s.start(o.cores);
  plain.up = std::make_unique<Upstream>(plain.s, frames, nullptr);
  tls.up = std::make_unique<Upstream>(tls.s, frames, std::make_shared<LinkTls>(tls.s.scratch.path(), tls.s.nodes, "gen"));
  const std::string load_before = load_average();
  std::vector<double> bounds{x25519_rate(1, o.cores, kBoundSeconds)};
  for (int r = 0; r < o.unwrap_rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      Side& side = (k == 0) == (r % 2 == 0) ? plain : tls;  // plain, tls; tls, plain; ...
      side.up->start_sending();
      std::this_thread::sleep_for(std::chrono::duration<double>(kRefill));
      const uint64_t q0 = side.s.sink->packets();
      const int64_t w0 = steady_ns();
      const double c0 = cpu_seconds(side.s.relay->pid());
      std::this_thread::sleep_for(std::chrono::duration<double>(o.unwrap_seconds));
      const uint64_t q1 = side.s.sink->packets();
      const int64_t w1 = steady_ns();
      const double c1 = cpu_seconds(side.s.relay->pid());
      side.ran_out = side.ran_out || side.up->ran_out();
      side.up->stop_sending();
      side.drained = wait_for(*side.s.sink, side.up->sent(), 10) && side.drained;
      wait_idle(side.s.relay->pid());
      bounds.push_back(x25519_rate(1, o.cores, kBoundSeconds));
      const double w = static_cast<double>(w1 - w0) / 1e9;
      const double bound = (bounds[bounds.size() - 2] + bounds.back()) / 2;
      const double rate = static_cast<double>(q1 - q0) / w;
      side.packets += static_cast<double>(q1 - q0);
      side.bound_packets += w * bound;
      side.wall += w;
      side.cpu += c1 - c0;
      side.windows.push_back({{"msgs_per_s", round_to(rate, 0)},
                              {"x25519_bound", round_to(bound, 0)},
                              {"share", round_to(rate / bound, 3)},
                              {"relay_cores", round_to((c1 - c0) / w, 2)}});
    }
  }
  const auto [lo, hi] = std::minmax_element(bounds.begin(), bounds.end());
  uint64_t lost = 0;
  for (Side* side : {&plain, &tls}) {
    const uint64_t sent = side->up->sent();
    lost += sent > side->s.sink->packets() ? sent - side->s.sink->packets() : 0;
    side->up.reset();
  }
  double bound_sum = 0;
  for (double b : bounds) bound_sum += b;
  out.plain = plain.packets / plain.wall;
  out.tls = tls.packets / tls.wall;
  out.plain_share = plain.packets / plain.bound_packets;
  out.tls_share = tls.packets / tls.bound_packets;
  out.bound = bound_sum / static_cast<double>(bounds.size());
  out.plain_us = plain.packets > 0 ? plain.cpu / plain.packets * 1e6 : 0;
  out.tls_us = tls.packets > 0 ? tls.cpu / tls.packets * 1e6 : 0;
  const auto links = tls.s.sink->tls_stats();
  print_json({{"impl", "veil"},
              {"op", "tls_unwrap_share_of_x25519_bound"},
              {"cores", o.cores},
              {"window_s", o.unwrap_seconds},
              {"rounds", o.unwrap_rounds},
              {"packets_prepared", count},
              {"prepare_s", round_to(prep_s, 1)},
              {"plain_msgs_per_s", round_to(out.plain, 0)},
              {"tls_msgs_per_s", round_to(out.tls, 0)},
              {"plain_share_of_bound", round_to(out.plain_share, 3)},
              {"tls_share_of_bound", round_to(out.tls_share, 3)},
              {"ratio_tls_plain", round_to(out.plain_share > 0 ? out.tls_share / out.plain_share : 0, 3)},
              {"x25519_bound_mean", round_to(out.bound, 0)},
              {"x25519_bound_min", round_to(*lo, 0)},
              {"x25519_bound_max", round_to(*hi, 0)},
              {"plain_relay_us_per_packet", round_to(out.plain_us, 2)},
              {"tls_relay_us_per_packet", round_to(out.tls_us, 2)},
              {"plain_relay_cores", round_to(plain.cpu / plain.wall, 2)},
              {"tls_relay_cores", round_to(tls.cpu / tls.wall, 2)},
              {"sink_handshakes_failed", links.handshakes_failed},
              {"ran_out_of_packets", plain.ran_out || tls.ran_out},
              {"lost", lost},
              {"load_before", load_before},
              {"load_after", load_average()},
              {"plain_windows", plain.windows},
              {"tls_windows", tls.windows},
              {"note", "a fake upstream relay sends onion packets (one layer for the mix, 1 X25519) "
                       "over a plain link or a TLS 1.3 link (TlsSecurity in the bench process, core "
                       "0) -> replay check -> mix none -> peer (plain or TLS as the mix's links); "
                       "4096 B packets, at most 4096 unacknowledged; bound = X25519 ops/s with one "
                       "thread per relay core (relays idle) between windows; windows plain, tls, "
                       "tls, plain, ..., each compared with the bounds on either side"}});
  if (!plain.drained || !tls.drained || lost != 0 || links.handshakes_failed != 0) rc |= 1;
  out.ok = plain.packets > 0 && tls.packets > 0 && !plain.ran_out && !tls.ran_out;
  return out;
}

}  // namespace veil::bench

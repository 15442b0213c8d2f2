// `veil-bench tls`, part 1: sidecar throughput of one relay with plain links and one with TLS
// links, in alternating windows.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "bench/relay/tls_parts.h"

namespace veil::bench {
namespace {

using nlohmann::json;

struct Window {
  double seconds = 0;       // sink clock
  uint64_t delivered = 0;   // packets at the sink within the window
  double relay_cpu = 0;     // relay CPU seconds within the window
  double loop_cpu = 0;      // of which its loop thread (TLS records are made and opened there)
  double bench_cpu = 0;     // this process (load generator and sink, TLS ends included)
  uint64_t rejected = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(delivered) / seconds : 0; }
};

// The sidecar mode of `veil-bench relay`: closed loop with `in_flight` submissions unanswered,
// 0.5 s to fill the pipeline, then `seconds` measured; then the answers and packets drain.
Window sidecar_window(RelaySetup& s, const std::vector<Bytes>& frames, double seconds,
                      std::size_t in_flight, uint64_t& accepted_total) {
  wait_idle(s.relay->pid());
  Window w;
  std::atomic<bool> stop{false};
  PipelineResult result;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, in_flight, 0, nullptr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t p0 = s.sink->packets();
  const int64_t t0 = steady_ns();
  const std::string loop_stat = "/proc/" + std::to_string(s.relay->pid()) + "/task/" +
                                std::to_string(s.relay->pid()) + "/stat";
  const double c0 = cpu_seconds(s.relay->pid());
  const double l0 = cpu_seconds_in(loop_stat);
  const double b0 = cpu_seconds(::getpid());
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t p1 = s.sink->packets();
  const int64_t t1 = steady_ns();
  w.relay_cpu = cpu_seconds(s.relay->pid()) - c0;
  w.loop_cpu = cpu_seconds_in(loop_stat) - l0;
  w.bench_cpu = cpu_seconds(::getpid()) - b0;
  stop = true;
  gen.join();
  accepted_total += result.accepted;
  w.rejected = result.rejected;
  wait_for(*s.sink, accepted_total, 10);
  w.seconds = static_cast<double>(t1 - t0) / 1e9;
  w.delivered = p1 - p0;
  return w;
}

struct Totals {
  double packets = 0, seconds = 0, relay_cpu = 0, loop_cpu = 0, bench_cpu = 0;
  void add(const Window& w) {
    loop_cpu += w.loop_cpu;
    packets += static_cast<double>(w.delivered);
    seconds += w.seconds;
    relay_cpu += w.relay_cpu;
    bench_cpu += w.bench_cpu;
  }
  double rate() const { return seconds > 0 ? packets / seconds : 0; }
  double us_per_msg() const { return packets > 0 ? relay_cpu / packets * 1e6 : 0; }
  double cores() const { return seconds > 0 ? relay_cpu / seconds : 0; }
  double loop_cores() const { return seconds > 0 ? loop_cpu / seconds : 0; }
  double bench_cores() const { return seconds > 0 ? bench_cpu / seconds : 0; }
};

}  // namespace

SidecarTls tls_sidecar(const TlsBenchOptions& o, const std::vector<Bytes>& frames, int& rc) {
  SidecarTls out;
  RelaySetup plain("tls-sidecar-plain", true, link_settings(false, o.journal));
  RelaySetup tls("tls-sidecar-tls", true, link_settings(true, o.journal));
  secure_links(tls);
  plain.start(o.cores);
  tls.start(o.cores);
  uint64_t accepted_plain = 0, accepted_tls = 0, rejected = 0;
  Totals tp, tt;
  std::vector<double> ratios;
  json rounds = json::array();
  const std::string load_before = load_average();
  for (int r = 0; r < o.rounds; ++r) {
    // plain, tls; tls, plain; ...: a drift within a round falls on both sides.
    Window wp, wt;
    if (r % 2 == 0) {
      wp = sidecar_window(plain, frames, o.seconds, o.window, accepted_plain);
      wt = sidecar_window(tls, frames, o.seconds, o.window, accepted_tls);
    } else {
      wt = sidecar_window(tls, frames, o.seconds, o.window, accepted_tls);
      wp = sidecar_window(plain, frames, o.seconds, o.window, accepted_plain);
    }
    tp.add(wp);
    tt.add(wt);
    rejected += wp.rejected + wt.rejected;
    ratios.push_back(wt.rate() / std::max(wp.rate(), 1.0));
    rounds.push_back({{"plain_msgs_per_s", round_to(wp.rate(), 0)},
                      {"tls_msgs_per_s", round_to(wt.rate(), 0)},
                      {"ratio", round_to(ratios.back(), 3)},
                      {"plain_relay_cores", round_to(wp.relay_cpu / wp.seconds, 2)},
                      {"tls_relay_cores", round_to(wt.relay_cpu / wt.seconds, 2)},
                      {"plain_loop_cores", round_to(wp.loop_cpu / wp.seconds, 2)},
                      {"tls_loop_cores", round_to(wt.loop_cpu / wt.seconds, 2)}});
  }
  const bool drained = wait_for(*plain.sink, accepted_plain, 10) && wait_for(*tls.sink, accepted_tls, 10);
  const uint64_t lost = (accepted_plain > plain.sink->packets() ? accepted_plain - plain.sink->packets() : 0) +
                        (accepted_tls > tls.sink->packets() ? accepted_tls - tls.sink->packets() : 0);
  const auto links = tls.sink->tls_stats();
  out.plain = tp.rate();
  out.tls = tt.rate();
  out.plain_us = tp.us_per_msg();
  out.tls_us = tt.us_per_msg();
  out.plain_cores = tp.cores();
  out.tls_cores = tt.cores();
  out.plain_loop = tp.loop_cores();
  out.tls_loop = tt.loop_cores();
  const auto [rmin, rmax] = std::minmax_element(ratios.begin(), ratios.end());
  out.ratio_min = ratios.empty() ? 0 : *rmin;
  out.ratio_max = ratios.empty() ? 0 : *rmax;
  print_json({{"impl", "veil"},
              {"op", "tls_sidecar_throughput"},
              {"cores", o.cores},
              {"window_s", o.seconds},
              {"rounds", o.rounds},
              {"in_flight", o.window},
              {"journal", o.journal},
              {"plain_msgs_per_s", round_to(out.plain, 0)},
              {"tls_msgs_per_s", round_to(out.tls, 0)},
              {"ratio_tls_plain", round_to(out.plain > 0 ? out.tls / out.plain : 0, 3)},
              {"ratio_min", round_to(out.ratio_min, 3)},
              {"ratio_max", round_to(out.ratio_max, 3)},
              {"plain_relay_us_per_msg", round_to(out.plain_us, 2)},
              {"tls_relay_us_per_msg", round_to(out.tls_us, 2)},
              {"plain_relay_cores", round_to(out.plain_cores, 2)},
              {"tls_relay_cores", round_to(out.tls_cores, 2)},
              {"plain_loop_cores", round_to(tp.loop_cores(), 2)},
              {"tls_loop_cores", round_to(tt.loop_cores(), 2)},
              {"plain_loop_us_per_msg", round_to(tp.packets > 0 ? tp.loop_cpu / tp.packets * 1e6 : 0, 2)},
              {"tls_loop_us_per_msg", round_to(tt.packets > 0 ? tt.loop_cpu / tt.packets * 1e6 : 0, 2)},
              {"plain_bench_cores", round_to(tp.bench_cores(), 2)},
              {"tls_bench_cores", round_to(tt.bench_cores(), 2)},
              {"sink_handshakes_completed", links.handshakes_completed},
              {"sink_handshakes_failed", links.handshakes_failed},
              {"rejected", rejected},
              {"lost", lost},
              {"load_before", load_before},
              {"load_after", load_average()},
              {"per_round", rounds},
              {"note", "closed loop through one veil-relay per link kind, submit SSv1 300-800 B -> "
                       "pairwise layer -> peer, mix none, 4096 B packets, the same settings but "
                       "plain_links; the fake peer ends the TLS link in the bench process (core 0); "
                       "windows plain, tls, tls, plain, ...; each 0.5 s after its load starts"}});
  if (!drained || lost != 0 || rejected != 0 || links.handshakes_failed != 0) rc |= 1;
  out.ok = tp.packets > 0 && tt.packets > 0;
  return out;
}

}  // namespace veil::bench

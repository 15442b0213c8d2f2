// `veil-bench tls` (see tls_bench.h): options, the three parts in turn, a table and a summary.
#include "bench/relay/tls_bench.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "bench/relay/bench_link.h"
#include "bench/relay/tls_parts.h"

namespace veil::bench {

using nlohmann::json;

json link_settings(bool tls, bool journal) {
  json s = base_settings();
  s["plain_links"] = !tls;
  if (!journal) s["run_without_journal"] = true;
  return s;
}

void secure_links(RelaySetup& s) {
  sim::write_directory(s.nodes, s.scratch.path());
  s.sink->use_tls(std::make_shared<LinkTls>(s.scratch.path(), s.nodes, "sink"));
}

void print_json(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

bool parse_tls_options(int argc, char** argv, int first, TlsBenchOptions& o) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--journal") {
      o.journal = true;
    } else if (a == "--only" && more) {
      o.only = argv[++i];
    } else if (a == "--cores" && more) {
      o.cores = std::atoi(argv[++i]);
    } else if (a == "--seconds" && more) {
      o.seconds = std::atof(argv[++i]);
    } else if (a == "--rounds" && more) {
      o.rounds = std::atoi(argv[++i]);
    } else if (a == "--window" && more) {
      o.window = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--unwrap-seconds" && more) {
      o.unwrap_seconds = std::atof(argv[++i]);
    } else if (a == "--unwrap-rounds" && more) {
      o.unwrap_rounds = std::atoi(argv[++i]);
    } else if (a == "--handshake-seconds" && more) {
      o.handshake_seconds = std::atof(argv[++i]);
    } else if (a == "--clients" && more) {
      o.clients = std::atoi(argv[++i]);
    } else if (a == "--in-process" && more) {
      o.in_process = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: veil-bench tls [--only sidecar|unwrap|handshakes] [--quick] [--journal]\n"
                   "  [--cores 1|2] [--seconds S] [--rounds N]   sidecar windows, plain/tls (3 x 2 x 2 s, 2 cores)\n"
                   "  [--window N]                               sidecar submissions in flight (8192)\n"
                   "  [--unwrap-seconds S] [--unwrap-rounds N]   unwrap windows, plain/tls (2 x 2 x 1 s)\n"
                   "  [--handshake-seconds S] [--clients N]      handshakes accepted by a relay on 1 core (4 s, 4)\n"
                   "  [--in-process N]                           in-process handshakes for comparison (300)\n"
                   "  --journal: relays keep the RocksDB journal (default: run_without_journal)\n");
      return false;
    }
  }
  if (o.quick) {
    o.seconds = std::min(o.seconds, 1.0);
    o.rounds = std::min(o.rounds, 2);
    o.unwrap_seconds = std::min(o.unwrap_seconds, 1.0);
    o.unwrap_rounds = std::min(o.unwrap_rounds, 1);
    o.handshake_seconds = std::min(o.handshake_seconds, 2.0);
    o.in_process = std::min<std::size_t>(o.in_process, 100);
  }
  if (o.cores < 1 || o.cores > 2 || o.rounds < 1 || o.unwrap_rounds < 1 || o.clients < 1 ||
      o.window < 32 || o.seconds <= 0 || o.unwrap_seconds <= 0 || o.handshake_seconds <= 0 ||
      o.in_process < 1 || (!o.only.empty() && o.only != "sidecar" && o.only != "unwrap" && o.only != "handshakes")) {
    std::fprintf(stderr, "veil-bench tls: cores 1 or 2; rounds, clients and seconds positive; window at least 32\n");
    return false;
  }
  return true;
}

namespace {

std::string thousands(double x) {
  std::string digits = std::to_string(static_cast<long long>(x + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

std::string fixed(double x, int prec) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, x);
  return b;
}

void row(const std::string& what, const std::string& plain, const std::string& tls, const std::string& ratio,
         const std::string& target) {
  std::printf("%-46s %12s %12s %8s  %s\n", what.c_str(), plain.c_str(), tls.c_str(), ratio.c_str(), target.c_str());
}

}  // namespace

int run_tls_bench(const TlsBenchOptions& o) {
  pin_self(0, 1);  // load generators, sinks and TLS clients: core 0, with every thread started here
  SystemRng rng;
  const int64_t start = steady_ns();
  int rc = 0;
  json summary = {{"impl", "veil"}, {"op", "tls_summary"}, {"cores", o.cores}, {"journal", o.journal},
                  {"load_before", load_average()}};
  SidecarTls sc;
  UnwrapTls uw;
  AcceptTls ac;
  auto part = [&](const char* name, auto&& run) {
    if (!o.only.empty() && o.only != name) return;
    try {
      run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "veil-bench tls: %s: %s\n", name, e.what());
      rc |= 1;
    }
  };
  part("sidecar", [&] {
    const std::vector<Bytes> frames = submission_frames(2000, rng);
    sc = tls_sidecar(o, frames, rc);
    const double ratio = sc.plain > 0 ? sc.tls / sc.plain : 0;
    summary["sidecar_ratio_tls_plain"] = {{"value", round_to(ratio, 3)}, {"plain_msgs_per_s", round_to(sc.plain, 0)},
                                          {"tls_msgs_per_s", round_to(sc.tls, 0)}, {"target", ">= 0.90"},
                                          {"met", sc.ok && ratio >= 0.9}};
    if (!sc.ok) rc |= 1;
  });
  part("unwrap", [&] {
    uw = tls_unwrap(o, rc);
    summary["unwrap_share_of_bound"] = {{"plain", round_to(uw.plain_share, 3)}, {"tls", round_to(uw.tls_share, 3)},
                                        {"ratio_tls_plain", round_to(uw.plain_share > 0 ? uw.tls_share / uw.plain_share : 0, 3)},
                                        {"target_tls", ">= 0.70"}, {"met", uw.ok && uw.tls_share >= 0.7}};
    if (!uw.ok) rc |= 1;
  });
  part("handshakes", [&] {
    ac = tls_accept(o, rc);
    summary["handshakes_per_s_one_core"] = {{"value", round_to(ac.per_second, 0)},
                                            {"relay_cores_used", round_to(ac.relay_cores, 2)},
                                            {"per_relay_cpu_s", round_to(ac.per_core_second, 0)},
                                            {"in_process_listener_per_s", round_to(ac.in_process_server, 0)}};
    if (!ac.ok) rc |= 1;
  });
  summary["load_after"] = load_average();
  summary["wall_seconds"] = round_to(static_cast<double>(steady_ns() - start) / 1e9, 1);

  std::printf("\nveil-bench tls: TLS 1.3 peer links against plain links, one run (ratio = tls / plain)\n");
  row("measurement", "plain", "tls", "ratio", "target");
  if (sc.ok) {
    row("sidecar throughput, msg/s (" + std::to_string(o.cores) + " cores)", thousands(sc.plain), thousands(sc.tls),
        fixed(sc.tls / sc.plain, 3), "ratio >= 0.90");
    row("  pairs of windows: ratio min - max", "", "", fixed(sc.ratio_min, 2) + "-" + fixed(sc.ratio_max, 2), "");
    row("  relay CPU per message, us", fixed(sc.plain_us, 2), fixed(sc.tls_us, 2), fixed(sc.tls_us / sc.plain_us, 3), "");
    row("  relay cores used (of which the loop thread)", fixed(sc.plain_cores, 2) + " (" + fixed(sc.plain_loop, 2) + ")",
        fixed(sc.tls_cores, 2) + " (" + fixed(sc.tls_loop, 2) + ")", "", "");
  }
  if (uw.ok) {
    row("unwrap, msg/s (" + std::to_string(o.cores) + " cores)", thousands(uw.plain), thousands(uw.tls),
        fixed(uw.tls / uw.plain, 3), "");
    row("  share of the X25519 bound (" + thousands(uw.bound) + "/s)", fixed(100 * uw.plain_share, 1) + " %",
        fixed(100 * uw.tls_share, 1) + " %", fixed(uw.tls_share / uw.plain_share, 3), ">= 70 %");
    row("  relay CPU per packet, us", fixed(uw.plain_us, 2), fixed(uw.tls_us, 2), fixed(uw.tls_us / uw.plain_us, 3), "");
  }
  if (ac.ok) {
    row("handshakes accepted per s, relay on 1 core", "", thousands(ac.per_second), "",
        "relay used " + fixed(ac.relay_cores, 2) + " cores");
    row("  per CPU second of the relay", "", thousands(ac.per_core_second), "", "");
    row("  in process: listener's share / both ends", "",
        thousands(ac.in_process_server) + " / " + thousands(ac.in_process_both), "", "");
  }
  std::printf("load average %s -> %s, %.0f s\n\n", summary["load_before"].get<std::string>().c_str(),
              summary["load_after"].get<std::string>().c_str(), summary["wall_seconds"].get<double>());
  print_json(summary);
  return rc;
}

}  // namespace veil::bench

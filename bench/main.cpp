// Entry point of veil-bench: `veil-bench crypto|relay|journal|tls|privacy|soak ...` (each prints its
// options).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/crypto_bench.h"
#include "bench/privacy/privacy_bench.h"
#include "bench/relay/journal_bench.h"
#include "bench/relay/throughput.h"
#include "bench/relay/tls_bench.h"
#include "bench/soak/soak.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "privacy") == 0) {
    veil::bench::PrivacyOptions p;
    if (!veil::bench::parse_privacy_options(argc, argv, 2, p)) return 2;
    return veil::bench::run_privacy_bench(p);
  }
  if (argc >= 2 && std::strcmp(argv[1], "soak") == 0) {
    veil::bench::SoakOptions o;
    if (!veil::bench::parse_soak_options(argc, argv, 2, o)) return 2;
    return veil::bench::run_soak(o);
  }
  if (argc >= 2 && std::strcmp(argv[1], "journal") == 0) {
    veil::bench::JournalBenchOptions j;
    if (!veil::bench::parse_journal_options(argc, argv, 2, j)) return 2;
    return veil::bench::run_journal_bench(j);
  }
  if (argc >= 2 && std::strcmp(argv[1], "tls") == 0) {
    veil::bench::TlsBenchOptions t;
    if (!veil::bench::parse_tls_options(argc, argv, 2, t)) return 2;
    return veil::bench::run_tls_bench(t);
  }
  if (argc >= 2 && std::strcmp(argv[1], "relay") == 0) {
    veil::bench::ThroughputOptions t;
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--quick") {
        t.quick = true;
      } else if (a == "--mode" && i + 1 < argc) {
        t.mode = argv[++i];
      } else if (a == "--cores" && i + 1 < argc) {
        t.cores = std::atoi(argv[++i]);
      } else if (a == "--seconds" && i + 1 < argc) {
        t.seconds = std::atof(argv[++i]);
      } else {
        std::fprintf(stderr, "usage: veil-bench relay [--mode sidecar|unwrap|latency|memory|all] "
                             "[--cores 1|2] [--seconds S] [--quick]\n");
        return 2;
      }
    }
    return veil::bench::run_throughput_bench(t);
  }
  if (argc < 2 || std::strcmp(argv[1], "crypto") != 0) {
    std::fprintf(stderr, "usage: veil-bench crypto [--quick] [--content-bytes N] [--only OP_PREFIX]\n"
                         "       veil-bench relay --help\n"
                         "       veil-bench journal --help\n"
                         "       veil-bench tls --help\n"
                         "       veil-bench privacy --help\n");
    return 2;
  }
  veil::bench::CryptoBenchOptions o;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only" && i + 1 < argc) {
      o.only = argv[++i];
    } else if (a == "--content-bytes" && i + 1 < argc) {
      o.content_bytes = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "veil-bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  return veil::bench::run_crypto_bench(o);
}

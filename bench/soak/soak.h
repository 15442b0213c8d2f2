// Soak (`veil-bench soak`): three real relays (relay-alpha -> mix-1 -> relay-beta, TLS links,
// journals, Poisson mix, cover) under steady load at half the capacity measured first, for a
// bounded time, with crashes (SIGKILL and restart of mix-1 and relay-beta in turn) and reloads
// (SIGHUP with changed cover rates, every relay in turn) along the way. Samples each relay's
// resident memory, open descriptors, mix pool and queue depth; reports whether they stay flat and
// whether everything accepted was delivered.
#pragma once

#include <cstdint>
#include <string>

namespace veil::bench {

struct SoakOptions {
  double minutes = 30;          // the soak itself, after the capacity probe
  double rate = 0;              // submissions/s; 0: half the capacity the probe measures
  double probe_seconds = 20;    // the capacity probe (all out, bounded in flight)
  double sample_seconds = 10;   // between samples
  double kill_every_s = 300;    // a crash and restart, mix-1 and relay-beta in turn; 0: none
  double reload_every_s = 120;  // a reload, relay-alpha, mix-1, relay-beta in turn; 0: none
  double warmup_s = 120;        // samples compared from this long into a relay's run
  std::string out = "soak-results";  // samples.csv and summary.md go here
  uint64_t seed = 1;
};

// The option text of `veil-bench soak --help`.
const char* soak_usage();

// Parses argv[first..argc); false (with a message on stderr) on a bad argument.
bool parse_soak_options(int argc, char** argv, int first, SoakOptions& out);

// Runs the soak; prints the summary. Returns 0 when every relay ran as expected, everything
// accepted arrived and (for a soak of 10 minutes or more) memory and descriptors stayed flat;
// 1 otherwise; 2 when the run could not be set up.
int run_soak(const SoakOptions& options);

}  // namespace veil::bench

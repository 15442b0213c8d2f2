// veil-bench privacy: latency versus anonymity of the relay's mix strategies under load, measured
// on real veil-relay processes against a global passive adversary (docs/privacy-bench.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/privacy/workload.h"

namespace veil::bench {

struct PrivacyOptions {
  enum class Mode { quick, full } mode = Mode::quick;
  std::string out = "privacy-results";
  uint64_t seed = 1;
  std::vector<double> rates;        // empty: the mode's loads
  std::string strategies;           // empty: the mode's grids; see usage()
  double duration = 0;              // measured window per point, seconds (0: the mode's default)
  double cover_drop = 5;            // relay A's cover rates, packets/s
  double cover_loop = 5;
  privacy::Bursts bursts;
  bool sda = true;                  // run the statistical disclosure scenario
  bool plan_only = false;           // print the planned points and the time estimate, run nothing
  std::string replot;               // rewrite summary.md and plots of this earlier output directory
  std::size_t senders = 10'000;
  std::size_t recipients = 1'000;
  double v2_share = 0.10;
  std::size_t max_messages = 0;     // bank size cap (0: the mode's default)
  std::string plot_script;          // gnuplot script (default: bench/plot_privacy.gp of the source tree)
};

// The option text printed by `veil-bench privacy --help`.
const char* privacy_usage();

// Parses argv[first..argc); false (with a message on stderr) on a bad argument.
bool parse_privacy_options(int argc, char** argv, int first, PrivacyOptions& out);

// Runs the sweep, writes CSV/JSON/Markdown/PNG under options.out; returns a process exit code.
int run_privacy_bench(const PrivacyOptions& options);

}  // namespace veil::bench

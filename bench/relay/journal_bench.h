// Journal benchmark (`veil-bench journal`): what the durable journal costs a real veil-relay, in one
// run: sidecar throughput with the journal on and off in alternating windows, the disk's own
// append-and-fdatasync rate at the journal's batch size in the journal's directory, added latency
// at 1,000 msg/s on and off, and the time a relay takes to recover 100,000 pooled packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace veil::bench {

struct JournalBenchOptions {
  std::string only;              // throughput (includes the disk bound) | latency | recovery; "": all
  int cores = 2;                 // relay cores for the throughput windows
  double seconds = 2;            // one measured throughput window
  int rounds = 5;                // throughput: pairs of windows (off, on), order alternating
  std::size_t window = 8192;     // throughput: submissions in flight (as `veil-bench relay`)
  double raw_seconds = 3;        // the raw append + fdatasync loop at the journal's batch size
  int latency_cores = 1;         // relay cores for the latency windows (as `veil-bench relay`)
  double latency_seconds = 3;    // one latency window at 1,000 msg/s
  int latency_rounds = 2;        // latency: pairs of windows (off, on)
  uint64_t recover_packets = 100000;
  int commit_window_ms = 0;      // journal_commit_window_ms of the journal-on relays
  bool quick = false;            // shorter everything, 20,000 packets to recover
};

bool parse_journal_options(int argc, char** argv, int first, JournalBenchOptions& o);

// Prints one JSON line per part and a summary line with the targets; returns non-zero if a run
// lost packets or a part could not run.
int run_journal_bench(const JournalBenchOptions& options);

}  // namespace veil::bench

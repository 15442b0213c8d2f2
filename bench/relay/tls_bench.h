// TLS link benchmark (`veil-bench tls`): what TLS 1.3 peer links cost a real veil-relay against
// plain links, side by side in one run: sidecar throughput, the unwrap share of the X25519 bound,
// and the TLS handshakes per second one relay core accepts.
#pragma once

#include <cstddef>
#include <string>

namespace veil::bench {

struct TlsBenchOptions {
  std::string only;              // sidecar | unwrap | handshakes; "": all
  int cores = 2;                 // relay cores for the sidecar and unwrap windows
  double seconds = 2;            // one sidecar window
  int rounds = 3;                // sidecar: pairs of windows (plain, tls), order alternating
  std::size_t window = 8192;     // sidecar: submissions in flight (as `veil-bench relay`)
  double unwrap_seconds = 1;     // one unwrap window
  int unwrap_rounds = 2;         // unwrap: pairs of windows (plain, tls), order alternating
  double handshake_seconds = 4;  // handshakes: the measured window
  int clients = 4;               // handshakes: connections the bench keeps dialing at once
  std::size_t in_process = 300;  // handshakes between two in-process ends, for comparison
  bool journal = false;          // relays keep the RocksDB journal (default: run_without_journal)
  bool quick = false;            // shorter everything
};

bool parse_tls_options(int argc, char** argv, int first, TlsBenchOptions& o);

// Prints one JSON line per part, a table, and a summary line with the targets; returns non-zero
// if a run lost packets, a handshake failed or a part could not run.
int run_tls_bench(const TlsBenchOptions& options);

}  // namespace veil::bench

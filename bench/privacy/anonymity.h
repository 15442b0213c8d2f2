// The global passive adversary's per-output posterior over a mix's inputs, computed from the
// observed input and output times, scored against ground truth: entropy, min-entropy, degree of
// anonymity, best-guess linking, size leakage; plus the statistical disclosure attack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace veil::bench::privacy {

// What the scoring needs to know about one message (indexed by message id).
struct MessageFacts {
  uint32_t sender = 0;
  uint32_t envelope_size = 0;
  std::vector<uint16_t> recipients;
};

// One accepted submission as the adversary sees it: its time (seconds from the run's origin).
struct InputEvent {
  double t = 0;
  uint32_t msg = 0;  // ground truth: the message id (never used by the adversary's model)
};

// One packet on the mix's output link: its time and captured frame size. `msg` is the ground
// truth (the message it carries, or -1 for a cover packet).
struct OutputEvent {
  double t = 0;
  int64_t msg = -1;
  uint32_t frame_size = 0;
};

struct Trace {
  std::vector<InputEvent> inputs;    // sorted by t
  std::vector<OutputEvent> outputs;  // sorted by t (link order)
};

enum class Model {
  pool,  // mass recursion (Serjantov–Danezis / Loopix): exact for threshold, timed, threshold-or-
         // timed, binomial and Poisson mixes once outputs are grouped into observed flushes
  fifo,  // no mixing: the adversary links the k-th real output to the k-th input (entropy 0)
};

struct AnalysisParams {
  Model model = Model::pool;
  // Outputs (covers included: they are visible) less than this far apart form one observed flush;
  // inputs are added to the pool only between flushes. 0 = every output on its own.
  double burst_gap = 0;
  double window_begin = 0;  // outputs scored: t in [window_begin, window_end)
  double window_end = 1e300;
  std::size_t senders = 1;  // N in the degree of anonymity H_sender / log2 N
};

struct AnonymitySummary {
  std::size_t scored = 0;         // real outputs in the window
  double h_mean = 0, h_p5 = 0, h_p50 = 0;  // Shannon entropy over inputs (bits)
  double hs_mean = 0, hs_p5 = 0;  // Shannon entropy over senders (bits)
  double degree_mean = 0;         // hs / log2(senders)
  double hmin_mean = 0;           // min-entropy over inputs (bits)
  double link_rate = 0;           // expected success of the argmax guesser (ties split evenly)
  double surprisal_mean = 0;      // mean -log2 p(true input): equals h_mean for a calibrated model
  std::size_t misses = 0;         // outputs whose true input got probability 0 (model violated)
  double pool_mean = 0;           // mean pool count n the adversary tracks at a scored output
  double h_size_mean = 0;         // mean entropy if outputs revealed the exact envelope size
  double h_size160_mean = 0;      // ... if they revealed the size in Signal's 160-byte classes
  std::size_t flushes = 0;        // observed flushes (bursts) containing a real output, all run
};

// Scores every real output of `trace` (covers are known to the adversary and skipped: the
// receiving relay learns them; so the figures are a lower bound for a pure link observer).
AnonymitySummary analyze(const Trace& trace, const std::vector<MessageFacts>& facts,
                         const AnalysisParams& params);

// Empirical mutual information (bits) between each real output's input envelope size and its
// captured frame size, over outputs in the window. 0 when every packet has the same size.
double captured_size_mi(const Trace& trace, const std::vector<MessageFacts>& facts,
                        double window_begin, double window_end);

// Shannon entropy (bits) of the envelope sizes of the inputs with t in the window, exact bytes
// or 160-byte classes: the most a size can tell about which message a packet is, before padding.
double size_entropy(const Trace& trace, const std::vector<MessageFacts>& facts, double begin,
                    double end, std::size_t bucket);

// Statistical disclosure attack (Danezis 2003) against one sender ("Alice", sender id 0).
struct SdaParams {
  // Rounds: observed flushes (burst_gap > 0), else fixed windows of `window` seconds whose outputs
  // are taken `shift` seconds later (the strategy's typical delay).
  double burst_gap = 0;
  double window = 0.1;
  double shift = 0;
  double begin = 0, end = 1e300;   // rounds used: starting in [begin, end)
  std::vector<uint16_t> contacts;  // ground truth: Alice's contacts
  std::size_t recipients = 1;      // size of the recipient population
};

struct SdaResult {
  std::size_t rounds = 0;        // rounds observed
  std::size_t alice_rounds = 0;  // rounds in which Alice sent
  std::size_t alice_msgs = 0;
  long first_correct = -1;       // Alice rounds until the top-m estimate is first right
  long rounds_needed = -1;       // Alice rounds until the top-m estimate is right and stays right
  long msgs_needed = -1;         // Alice's messages sent by then
  double mean_round = 0;         // mean deliveries per round (the batch size b)
  double formula_rounds = 0;     // Danezis' rough estimate (l = 2), for comparison only
};

SdaResult statistical_disclosure(const Trace& trace, const std::vector<MessageFacts>& facts,
                                 const SdaParams& params);

// Closed forms for the mean per-output input entropy (bits); NaN where none is used.
//  poisson:   log2(e·λ·d)                      (Loopix; valid for λd ≫ 1)
//  threshold: log2(k·λ/(λ+λc))                 (batch of k packets, covers take their share)
//  timed:     E[log2(1 + Poisson(λT))]         (size-biased batch of a Poisson stream)
//  binomial:  log2(λT) + H2(p)/p               (Loopix App. A.1 recursion at the fixed point)
double analytic_entropy(const std::string& strategy, double rate, double cover_rate,
                        double mean_delay_s, double threshold, double interval_s, double p);

double percentile(std::vector<double> v, double q);

}  // namespace veil::bench::privacy

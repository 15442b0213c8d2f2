// Statistics of the privacy suite: exact tails, chi-square, the adversaries' analyses (batch
// linking, flush order, mass recursion for pool/Poisson mixes, keyless population comparison)
// and byte scans. Pure functions over observations, so tests/privacy/detectors_test.cpp can show
// that each analysis flags a relay that leaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace veil::privacy::stats {

// ---- distributions ------------------------------------------------------------------------

// P(Z > z) for a standard normal Z.
double normal_sf(double z);
// P(X > x) for X ~ chi-square with `df` degrees of freedom (regularized upper incomplete gamma).
double chi2_sf(double x, double df);
// Probability mass function of the number of fixed points of a uniform permutation of k.
std::vector<double> fixed_points_pmf(int k);
// pmf of Binomial(n, p).
std::vector<double> binomial_pmf(std::size_t n, double p);
// pmf of Poisson(lambda) on 0..max.
std::vector<double> poisson_pmf(double lambda, std::size_t max);
// pmf of the sum of m independent draws from `pmf`.
std::vector<double> convolve_power(const std::vector<double>& pmf, std::size_t m);
// The smallest c with P(X >= c) <= alpha for X ~ pmf (pmf.size() if no such c in range).
std::size_t upper_threshold(const std::vector<double>& pmf, double alpha);

// ---- batch (threshold) mix: linking and order ----------------------------------------------

// One flush: perm[j] = position within the batch's input order of the j-th output.
using Flush = std::vector<int>;

struct LinkingResult {
  std::size_t outputs = 0;
  std::size_t fifo = 0, lifo = 0, uniform = 0;   // successes of each guessing adversary
  std::size_t fifo_limit = 0, lifo_limit = 0, uniform_limit = 0;  // fail at >= limit
  double best_rate() const;                       // the best adversary's success rate
};
// Three adversaries guess, for each output, one input of its batch: first-in-first-out (j -> j),
// last-in-first-out (j -> k-1-j) and uniformly at random (SeededRng(seed)). Each limit is the
// exact upper alpha/3 point of its success count for a uniformly shuffling k-mix: sums of
// fixed-point counts of uniform permutations (FIFO, LIFO) and Binomial(outputs, 1/k) (uniform).
LinkingResult analyse_linking(const std::vector<Flush>& flushes, int k, double alpha,
                              uint64_t seed);

struct OrderResult {
  double chi2 = 0;       // Pearson statistic of the k x k (input position, output position) table,
                         // scaled by (k-1)/k: chi-square with (k-1)^2 df under uniform shuffles
  double df = 0;
  double chi2_p = 1;
  double spearman = 0;   // mean per-flush Spearman rank correlation (input pos vs output pos)
  double spearman_z = 0;
  double spearman_p = 1; // two-sided
  std::vector<std::vector<uint64_t>> table;
};
OrderResult analyse_order(const std::vector<Flush>& flushes, int k);

// ---- pool / Poisson mixes: the mass recursion ----------------------------------------------

struct PosteriorStats {
  std::size_t outputs = 0;
  double mean_entropy = 0;      // mean per-output Shannon entropy (bits)
  double mean_min_entropy = 0;  // mean per-output -log2 max p
  double best_guess = 0;        // success rate of guessing the newest of the most likely inputs
  double mean_p_true = 0;       // mean posterior mass on the true input
  std::size_t anomalies = 0;    // departures with nobody inside, or truth not a candidate
};
// Mass recursion over the event sequence (arrivals at `arrivals[i]` of input i; departures
// (time, true input)): arrival n += 1, point mass; departure: output distribution M/n, then
// M *= (n-1)/n, n -= 1. Ties: arrivals before departures.
PosteriorStats mass_recursion(const std::vector<double>& arrivals,
                              const std::vector<std::pair<double, int>>& departures);

struct SyntheticResult {
  PosteriorStats mean;  // mean of each statistic over the replicates
  PosteriorStats sd;    // standard deviation of each statistic over the replicates
  std::size_t reps = 0;
};
// The same statistics for an ideal Poisson (M/M/inf) mix fed the same arrival times: each input
// leaves after an independent Exp(mean_delay) delay. `reps` replicates, SeededRng(seed).
SyntheticResult simulate_poisson_mix(const std::vector<double>& arrivals, double mean_delay,
                                     std::size_t reps, uint64_t seed);

// Acceptance band of a measured statistic around the ideal mix's (poisson_entropy_test.cpp
// justifies the numbers): |got - ideal mean| <= kPoissonSds * ideal sd + allowance.
inline constexpr double kPoissonSds = 4.5;
inline constexpr double kEntropyAllowance = 0.08;  // bits (Shannon and min-entropy)
inline constexpr double kRateAllowance = 0.012;    // best-guess success, mean p(true input)

// ---- keyless byte-level comparison of two packet populations -------------------------------

struct Region {
  std::string name;
  std::size_t begin, end;  // byte offsets [begin, end)
};
struct PopulationResult {
  double max_abs_z = 0;          // largest |z| of a per-position mean difference
  std::size_t argmax = 0;
  double max_abs_bit_z = 0;      // largest |z| of a per-bit-position difference of proportions
  std::size_t bit_argmax = 0;
  std::vector<double> region_chi2;  // 2 x 256 homogeneity chi-square per region (255 df)
  std::vector<double> region_p;
};
// Per position: z = (mean_a - mean_b) / sqrt(var_u (1/na + 1/nb)), var_u = (256^2 - 1)/12 the
// variance of a uniform byte. Per bit position: pooled two-proportion z of the frequency of ones
// (catches a one-bit flag that moves a byte's mean too little). Per region: byte-value
// histograms of a vs b, chi-square 255 df.
PopulationResult compare_populations(const std::vector<Bytes>& a, const std::vector<Bytes>& b,
                                     const std::vector<Region>& regions);

// ---- byte scans -----------------------------------------------------------------------------

// Offsets of `needle` in `hay`.
std::vector<std::size_t> find_all(ByteView hay, ByteView needle);
// Offsets where the 8 bytes read big- or little-endian lie in [lo, hi].
std::vector<std::size_t> find_u64_in_range(ByteView hay, uint64_t lo, uint64_t hi);
// Number of offsets where the 4 bytes read big- or little-endian lie in [lo, hi] (counted once
// per reading).
std::size_t count_u32_in_range(ByteView hay, uint32_t lo, uint32_t hi);
// Offsets of runs of exactly `digits` ASCII digits (inside longer runs too) whose value is in
// [lo, hi].
std::vector<std::size_t> find_decimal_in_range(ByteView hay, std::size_t digits, uint64_t lo,
                                               uint64_t hi);
// Offsets where a protobuf varint decodes to a value in [lo, hi].
std::vector<std::size_t> find_varint_in_range(ByteView hay, uint64_t lo, uint64_t hi);

}  // namespace veil::privacy::stats

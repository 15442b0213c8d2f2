// Order: within a flush of a threshold mix, the output order is independent of the input order.
#include <boost/test/unit_test.hpp>

#include "support.h"
#include "threshold_run.h"

namespace veil::privacy {

BOOST_AUTO_TEST_SUITE(flush_order)

// Two tests on the k x k table of (input position, output position) over many flushes:
//  - Pearson chi-square scaled by (k-1)/k, which is chi-square with (k-1)^2 df for sums of
//    uniform permutation matrices (stats.cpp explains the scaling; the plain statistic has mean
//    k(k-1), not (k-1)^2, and would over-reject);
//  - mean per-flush Spearman rank correlation, z-test (variance 1/(k-1) per flush), sensitive to
//    partial FIFO/LIFO order.
// Each at 5e-4: a correct relay fails with probability <= 1e-3. Ground truth as in batch_linking.
BOOST_AUTO_TEST_CASE(output_position_independent_of_input_position) {
  Watchdog guard(90);
  const int k = 8;
  const std::size_t batches = 400;  // 50 expected per cell
  const ThresholdRun run = run_threshold_mix(k, batches, 501);
  BOOST_REQUIRE_EQUAL(run.unpeeled, 0u);
  BOOST_REQUIRE_EQUAL(run.outside_batch, 0u);
  BOOST_REQUIRE_EQUAL(run.flushes.size(), batches);
  const auto r = stats::analyse_order(run.flushes, k);
  std::string rows;
  for (const auto& row : r.table) {
    rows += "[";
    for (uint64_t c : row) rows += " " + std::to_string(c);
    rows += " ]";
  }
  report("flush_order: k=%d, %zu flushes in %.2f s; table (row = input position): %s", k, batches,
         run.seconds, rows.c_str());
  report("flush_order: scaled chi-square %.2f on %.0f df, p = %.4f; mean Spearman rho %.4f, z = "
         "%.2f, p = %.4f (fail at p < 5e-4)",
         r.chi2, r.df, r.chi2_p, r.spearman, r.spearman_z, r.spearman_p);
  BOOST_CHECK_GE(r.chi2_p, 5e-4);
  BOOST_CHECK_GE(r.spearman_p, 5e-4);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy

// Timing against a batch mix of size k: a global passive adversary who sees every input time (at
// submit) and every output time (on alpha's egress link) links outputs to inputs no better than
// 1/k + epsilon, epsilon from the exact distribution of its success count at this sample size.
#include <boost/test/unit_test.hpp>

#include "support.h"
#include "threshold_run.h"

namespace veil::privacy {

BOOST_AUTO_TEST_SUITE(batch_linking)

// Ground truth: each captured packet is peeled with beta's key (pairwise layer alpha -> beta,
// then the deliver payload's envelope, unique per input). The adversary needs no keys: the
// flushes are the consecutive k-packet bursts and a flush's candidates are the k inputs sent
// since the previous flush (the test checks that this timing-derived batch is exact).
//
// Statistics: for a uniformly shuffling k-mix, the FIFO and LIFO guessers' success counts are
// sums of fixed-point counts of independent uniform permutations and the uniform guesser's is
// Binomial(outputs, 1/k); each limit is the exact upper 1e-3/3 point, so a correct relay fails
// with probability <= 1e-3 (Bonferroni over the three adversaries). The guesser's seed is fixed.
BOOST_AUTO_TEST_CASE(linking_rate_at_most_one_over_k) {
  Watchdog guard(90);
  const int k = 8;
  const std::size_t batches = 200;
  const ThresholdRun run = run_threshold_mix(k, batches, 301);
  BOOST_REQUIRE_EQUAL(run.unpeeled, 0u);
  // The anonymity set of every output is exactly its batch of k (threshold semantics).
  BOOST_CHECK_EQUAL(run.candidate_mismatches, 0u);
  BOOST_CHECK_EQUAL(run.outside_batch, 0u);
  BOOST_REQUIRE_EQUAL(run.flushes.size(), batches);

  const double alpha = 1e-3;
  const auto r = stats::analyse_linking(run.flushes, k, alpha, 302);
  const double n = static_cast<double>(r.outputs);
  report("batch_linking: k=%d, %zu flushes, %zu outputs in %.2f s (flush spread on the wire %.0f us)",
         k, batches, r.outputs, run.seconds, run.mean_flush_spread_us);
  report("batch_linking: success FIFO %.4f (limit %.4f), LIFO %.4f (limit %.4f), uniform %.4f "
         "(limit %.4f); 1/k = %.4f",
         static_cast<double>(r.fifo) / n, static_cast<double>(r.fifo_limit) / n,
         static_cast<double>(r.lifo) / n, static_cast<double>(r.lifo_limit) / n,
         static_cast<double>(r.uniform) / n, static_cast<double>(r.uniform_limit) / n, 1.0 / k);
  report("batch_linking: best adversary %.4f <= 1/k + eps = %.4f", r.best_rate(),
         static_cast<double>(std::max(r.fifo_limit, r.uniform_limit) - 1) / n);
  BOOST_CHECK_LT(r.fifo, r.fifo_limit);
  BOOST_CHECK_LT(r.lifo, r.lifo_limit);
  BOOST_CHECK_LT(r.uniform, r.uniform_limit);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy

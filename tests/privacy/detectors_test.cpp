// The suite's detectors, without relays: each analysis used against the real relays flags a
// synthetic relay that leaks, stays quiet on a synthetic relay that does not, and (where a
// distribution is approximated) keeps its nominal false-alarm rate. This is how the suite shows
// that every privacy test can fail. All randomness here is SeededRng with fixed seeds.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>

#include "base/rng.h"
#include "stats.h"
#include "support.h"

namespace veil::privacy {
namespace {

stats::Flush shuffled(int k, Rng& rng) {
  stats::Flush f(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) f[static_cast<std::size_t>(i)] = i;
  for (std::size_t i = f.size(); i > 1; --i) std::swap(f[i - 1], f[rng.uniform(i)]);
  return f;
}

std::vector<double> poisson_arrivals(double rate, std::size_t n, uint64_t seed) {
  SeededRng rng(seed);
  std::vector<double> a(n);
  double t = 0;
  for (auto& x : a) {
    t += -std::log1p(-rng.unit()) / rate;
    x = t;
  }
  return a;
}

bool within_band(double got, double mean, double sd, double allowance) {
  return std::fabs(got - mean) <= stats::kPoissonSds * sd + allowance;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(detectors)

BOOST_AUTO_TEST_CASE(distributions) {
  BOOST_CHECK_CLOSE(stats::chi2_sf(3.841459, 1), 0.05, 0.01);
  BOOST_CHECK_CLOSE(stats::chi2_sf(2.0, 2), std::exp(-1.0), 1e-6);
  BOOST_CHECK_CLOSE(stats::chi2_sf(85.351, 49), 1e-3, 1.0);
  BOOST_CHECK_CLOSE(stats::normal_sf(3.090232), 1e-3, 0.01);
  const auto fp = stats::fixed_points_pmf(8);
  double sum = 0, mean = 0;
  for (std::size_t j = 0; j < fp.size(); ++j) {
    sum += fp[j];
    mean += static_cast<double>(j) * fp[j];
  }
  BOOST_CHECK_CLOSE(sum, 1.0, 1e-9);
  BOOST_CHECK_CLOSE(mean, 1.0, 1e-9);  // a uniform permutation has one fixed point on average
  BOOST_CHECK_CLOSE(fp[0], 14833.0 / 40320.0, 1e-9);  // derangements of 8
  const auto b = stats::binomial_pmf(10, 0.5);
  BOOST_CHECK_EQUAL(stats::upper_threshold(b, 1.0 / 1024 + 1e-12), 10u);  // P(X >= 10) = 2^-10
  BOOST_CHECK_EQUAL(stats::upper_threshold(b, 11.0 / 1024 + 1e-12), 9u);
}

// batch_linking: a mix that keeps arrival order (or reverses it) is caught; a shuffling one not.
BOOST_AUTO_TEST_CASE(linking_detects_unshuffled_flushes) {
  const int k = 8;
  SeededRng rng(11);
  std::vector<stats::Flush> fifo, lifo, good;
  for (int b = 0; b < 200; ++b) {
    stats::Flush f(k), r(k);
    for (int j = 0; j < k; ++j) {
      f[static_cast<std::size_t>(j)] = j;
      r[static_cast<std::size_t>(j)] = k - 1 - j;
    }
    fifo.push_back(f);
    lifo.push_back(r);
    good.push_back(shuffled(k, rng));
  }
  const auto a = stats::analyse_linking(fifo, k, 1e-3, 1);
  BOOST_CHECK_GE(a.fifo, a.fifo_limit);
  const auto l = stats::analyse_linking(lifo, k, 1e-3, 1);
  BOOST_CHECK_GE(l.lifo, l.lifo_limit);
  const auto g = stats::analyse_linking(good, k, 1e-3, 1);
  BOOST_CHECK_LT(g.fifo, g.fifo_limit);
  BOOST_CHECK_LT(g.lifo, g.lifo_limit);
  BOOST_CHECK_LT(g.uniform, g.uniform_limit);
  // A weak leak: one flush in four keeps arrival order.
  std::vector<stats::Flush> weak;
  for (int b = 0; b < 200; ++b) weak.push_back(b % 4 == 0 ? fifo[0] : shuffled(k, rng));
  const auto w = stats::analyse_linking(weak, k, 1e-3, 1);
  report("detectors: linking, 1 in 4 flushes unshuffled: FIFO %zu successes, limit %zu", w.fifo, w.fifo_limit);
  BOOST_CHECK_GE(w.fifo, w.fifo_limit);
}

// flush_order: nominal false-alarm rate of both tests, and detection of a partial order leak.
BOOST_AUTO_TEST_CASE(order_tests_calibrated_and_sensitive) {
  const int k = 8;
  SeededRng rng(12);
  const std::size_t reps = 1000;
  std::size_t chi_alarms = 0, rho_alarms = 0;
  for (std::size_t r = 0; r < reps; ++r) {
    std::vector<stats::Flush> flushes;
    for (int b = 0; b < 100; ++b) flushes.push_back(shuffled(k, rng));
    const auto o = stats::analyse_order(flushes, k);
    chi_alarms += o.chi2_p < 0.05;
    rho_alarms += o.spearman_p < 0.05;
  }
  // Under a correct shuffle each count is Binomial(1000, 0.05): mean 50; accept [27, 78]
  // (two-sided < 1e-4 each, fixed seed).
  report("detectors: order tests at nominal 0.05 over %zu null runs: chi-square %zu, Spearman %zu",
         reps, chi_alarms, rho_alarms);
  BOOST_CHECK(chi_alarms >= 27 && chi_alarms <= 78);
  BOOST_CHECK(rho_alarms >= 27 && rho_alarms <= 78);
  // Leak: the first input leaves first in 30% of flushes, the rest shuffled.
  std::vector<stats::Flush> leaky;
  for (int b = 0; b < 400; ++b) {
    stats::Flush f = shuffled(k, rng);
    if (rng.uniform(10) < 3) {
      auto it = std::find(f.begin(), f.end(), 0);
      std::rotate(f.begin(), it, it + 1);
    }
    leaky.push_back(f);
  }
  const auto o = stats::analyse_order(leaky, k);
  report("detectors: order leak (first in leaves first in 30%% of flushes): chi-square p %.2e, "
         "Spearman p %.2e", o.chi2_p, o.spearman_p);
  BOOST_CHECK(o.chi2_p < 5e-4 || o.spearman_p < 5e-4);
}

// poisson_entropy: the recursion is exact on a batch; a FIFO fixed-delay relay and a relay with
// half the configured delay fall outside the acceptance band; an ideal one inside.
BOOST_AUTO_TEST_CASE(mass_recursion_detects_wrong_mixing) {
  {
    // Batch of 8 arrivals then 8 departures: every output has entropy log2 8 = 3 bits.
    std::vector<double> arr(8);
    std::vector<std::pair<double, int>> dep;
    for (int i = 0; i < 8; ++i) {
      arr[static_cast<std::size_t>(i)] = i;
      dep.emplace_back(10 + i, (i * 3) % 8);
    }
    const auto s = stats::mass_recursion(arr, dep);
    BOOST_CHECK_CLOSE(s.mean_entropy, 3.0, 1e-9);
    BOOST_CHECK_CLOSE(s.mean_p_true, 1.0 / 8, 1e-9);
    BOOST_CHECK_EQUAL(s.anomalies, 0u);
  }
  const double rate = 150, delay = 0.060;
  const auto arr = poisson_arrivals(rate, 900, 21);
  const auto ideal = stats::simulate_poisson_mix(arr, delay, 300, 22);
  auto judge = [&](const char* what, const std::vector<std::pair<double, int>>& dep) {
    const auto s = stats::mass_recursion(arr, dep);
    const bool ok = within_band(s.mean_entropy, ideal.mean.mean_entropy, ideal.sd.mean_entropy, stats::kEntropyAllowance) &&
                    within_band(s.mean_min_entropy, ideal.mean.mean_min_entropy, ideal.sd.mean_min_entropy, stats::kEntropyAllowance) &&
                    within_band(s.best_guess, ideal.mean.best_guess, ideal.sd.best_guess, stats::kRateAllowance) &&
                    within_band(s.mean_p_true, ideal.mean.mean_p_true, ideal.sd.mean_p_true, stats::kRateAllowance);
    report("detectors: %-22s entropy %.3f (ideal %.3f), best guess %.3f (ideal %.3f), p(true) %.3f "
           "(ideal %.3f): %s",
           what, s.mean_entropy, ideal.mean.mean_entropy, s.best_guess, ideal.mean.best_guess,
           s.mean_p_true, ideal.mean.mean_p_true, ok ? "accepted" : "rejected");
    return ok;
  };
  SeededRng rng(23);
  std::vector<std::pair<double, int>> fifo, half, good;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    fifo.emplace_back(arr[i] + delay, static_cast<int>(i));
    half.emplace_back(arr[i] - delay / 2 * std::log1p(-rng.unit()), static_cast<int>(i));
    good.emplace_back(arr[i] - delay * std::log1p(-rng.unit()), static_cast<int>(i));
  }
  BOOST_CHECK(!judge("FIFO, fixed delay", fifo));
  BOOST_CHECK(!judge("Poisson, half delay", half));
  BOOST_CHECK(judge("Poisson, as configured", good));
}

// cover: keyless byte tests flag a population with structure, not two random ones.
BOOST_AUTO_TEST_CASE(population_tests_detect_structure) {
  const std::size_t p = 1024;
  SeededRng rng(31);
  auto random_packets = [&](std::size_t n) {
    std::vector<Bytes> v(n, Bytes(p));
    for (auto& x : v) rng.fill(x);
    return v;
  };
  const std::vector<stats::Region> regions = {{"head", 0, 32}, {"body", 32, p - 80}, {"tail", p - 80, p}};
  double z_star = 4, zb_star = 4;
  while (2.0 * static_cast<double>(p) * stats::normal_sf(z_star) > 1e-4) z_star += 0.001;
  while (2.0 * static_cast<double>(8 * p) * stats::normal_sf(zb_star) > 1e-4) zb_star += 0.001;
  const auto a = random_packets(400), b = random_packets(400);
  const auto same = stats::compare_populations(a, b, regions);
  BOOST_CHECK_LE(same.max_abs_z, z_star);
  BOOST_CHECK_LE(same.max_abs_bit_z, zb_star);
  for (double pv : same.region_p) BOOST_CHECK_GE(pv, 2e-5);
  // Covers whose tail is zero fill (e.g. padding not encrypted).
  auto zero_tail = random_packets(400);
  for (auto& x : zero_tail) std::fill(x.end() - 16, x.end(), 0);
  const auto zt = stats::compare_populations(zero_tail, b, regions);
  BOOST_CHECK_GT(zt.max_abs_z, z_star);
  BOOST_CHECK_LT(zt.region_p[2], 2e-5);
  // Subtler: one byte of the head carries a 1-bit flag ("cover") in its low bit.
  auto flagged = random_packets(400);
  for (auto& x : flagged) x[5] = static_cast<uint8_t>(x[5] | 1);
  const auto fl = stats::compare_populations(flagged, b, regions);
  report("detectors: populations: random vs random max|z| %.2f, bits %.2f; zero tail %.2f; "
         "low-bit flag: bit z %.2f at bit %zu, mean z %.2f, head chi2 p %.2f (z* %.2f, bits %.2f)",
         same.max_abs_z, same.max_abs_bit_z, zt.max_abs_z, fl.max_abs_bit_z, fl.bit_argmax,
         fl.max_abs_z, fl.region_p[0], z_star, zb_star);
  BOOST_CHECK_GT(fl.max_abs_bit_z, zb_star);
  BOOST_CHECK_EQUAL(fl.bit_argmax, 40u);
}

// identity: the scanners find planted identifiers and times.
BOOST_AUTO_TEST_CASE(scanners_find_planted_leaks) {
  SeededRng rng(41);
  Bytes hay(1 << 20);
  rng.fill(hay);
  const std::string uuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  std::copy(uuid.begin(), uuid.end(), hay.begin() + 1000);
  BOOST_CHECK_EQUAL(stats::find_all(hay, Bytes(uuid.begin(), uuid.end())).size(), 1u);
  const uint64_t t = 1'700'000'123'456;
  for (int i = 0; i < 8; ++i) hay[5000 + static_cast<std::size_t>(i)] = static_cast<uint8_t>(t >> (8 * (7 - i)));
  BOOST_CHECK(!stats::find_u64_in_range(hay, t - 10, t + 10).empty());
  const std::string dec = std::to_string(t / 1000);
  std::copy(dec.begin(), dec.end(), hay.begin() + 9000);
  BOOST_CHECK(!stats::find_decimal_in_range(hay, 10, t / 1000 - 5, t / 1000 + 5).empty());
  uint64_t v = t;
  std::size_t at = 12000;
  while (v >= 0x80) {
    hay[at++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  hay[at] = static_cast<uint8_t>(v);
  BOOST_CHECK(!stats::find_varint_in_range(hay, t - 10, t + 10).empty());
  const std::size_t before = stats::count_u32_in_range(hay, 1'700'000'000, 1'700'000'200);
  for (int k = 0; k < 12; ++k) {
    const uint32_t s = 1'700'000'100;
    for (int i = 0; i < 4; ++i) hay[20000 + 8 * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)] = static_cast<uint8_t>(s >> (8 * i));
  }
  BOOST_CHECK_EQUAL(stats::count_u32_in_range(hay, 1'700'000'000, 1'700'000'200), before + 12);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy

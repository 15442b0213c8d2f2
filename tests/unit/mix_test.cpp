// Mix strategies: exact release times and batch sizes, statistics of binomial and Poisson mixes,
// uniformly random output order (chi-square), drain, and the next_deadline contract.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/clock.h"
#include "proxy/relay/core/mix.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;
using Strategy = MixConfig::Strategy;

namespace {

const Strategy kAll[] = {Strategy::none,     Strategy::threshold, Strategy::timed,
                         Strategy::threshold_or_timed, Strategy::binomial, Strategy::poisson};

std::unique_ptr<Mix> make(const MixConfig& c, Rng& rng) {
  auto m = make_mix(c, rng);
  BOOST_REQUIRE(m.ok());
  return std::move(*m);
}

MixConfig config(Strategy s) {
  MixConfig c;
  c.strategy = s;
  return c;
}

std::multiset<uint64_t> as_set(const std::vector<uint64_t>& v) { return {v.begin(), v.end()}; }

std::multiset<uint64_t> range_set(uint64_t from, uint64_t to) {
  std::multiset<uint64_t> s;
  for (uint64_t i = from; i < to; ++i) s.insert(i);
  return s;
}

// Pearson's chi-square statistic of `observed` against a uniform expectation.
double chi_square_uniform(const std::vector<uint64_t>& observed) {
  uint64_t total = 0;
  for (uint64_t o : observed) total += o;
  const double expected = static_cast<double>(total) / static_cast<double>(observed.size());
  double chi2 = 0;
  for (uint64_t o : observed) {
    const double d = static_cast<double>(o) - expected;
    chi2 += d * d / expected;
  }
  return chi2;
}

// Runs `flushes` flushes of n ids (k·n .. k·n+n−1) through `flush`, and returns the chi-square
// statistics (positions: (n−1)² df; whole permutations, n ≤ 5: n! − 1 df).
struct OrderStats {
  double positions = 0;
  double permutations = 0;
  bool well_formed = true;  // every flush returned exactly its n ids
};
template <class Flush>
OrderStats order_statistics(std::size_t n, std::size_t flushes, Flush flush) {
  OrderStats s;
  std::vector<uint64_t> position_counts(n * n, 0);
  std::size_t codes = 1;  // n^n permutation codes (base-n digits), of which n! occur
  for (std::size_t i = 0; i < n && n <= 5; ++i) codes *= n;
  std::vector<uint64_t> perm_counts(codes, 0);
  for (std::size_t k = 0; k < flushes; ++k) {
    std::vector<uint64_t> ids;
    for (std::size_t j = 0; j < n; ++j) ids.push_back(k * n + j);
    const std::vector<uint64_t> out = flush(ids);
    std::vector<bool> seen(n, false);
    std::size_t code = 0;
    s.well_formed = s.well_formed && out.size() == n;
    for (std::size_t pos = 0; pos < n && pos < out.size(); ++pos) {
      const uint64_t j = out[pos] - k * n;
      if (j >= n || seen[j]) {
        s.well_formed = false;
        continue;
      }
      seen[j] = true;
      ++position_counts[j * n + pos];
      code = code * n + j;
    }
    if (n <= 5) ++perm_counts[code];
  }
  s.positions = chi_square_uniform(position_counts);
  if (n <= 5) {
    std::vector<uint64_t> all;  // the n! valid codes, in lexicographic order
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    do {
      std::size_t code = 0;
      for (std::size_t j : perm) code = code * n + j;
      all.push_back(perm_counts[code]);
    } while (std::next_permutation(perm.begin(), perm.end()));
    s.permutations = chi_square_uniform(all);
  }
  return s;
}

// Critical values with a false-alarm rate below 1e-5 per check for a truly uniform shuffle
// (upper tail of chi-square: P(χ²₄₉ > 105) = 5.9e-6, P(χ²₂₃ > 65) = 7.0e-6). The seeds are
// fixed, so the outcome is deterministic; the rate is the chance that another seed would fail.
constexpr double kChi2Positions8 = 105;  // 49 df (8 ids)
constexpr double kChi2Perms4 = 65;       // 23 df (4! permutations)

}  // namespace

BOOST_AUTO_TEST_SUITE(mix)

BOOST_AUTO_TEST_CASE(strategy_names_round_trip_and_unknown_names_are_rejected) {
  std::set<std::string> names;
  for (Strategy s : kAll) {
    names.insert(strategy_name(s));
    auto parsed = parse_strategy(strategy_name(s));
    BOOST_REQUIRE(parsed.ok());
    BOOST_TEST(static_cast<int>(*parsed) == static_cast<int>(s));
  }
  BOOST_TEST(names.size() == 6u);
  BOOST_TEST(std::string(strategy_name(Strategy::threshold_or_timed)) == "threshold_or_timed");
  for (const char* bad : {"", "Poisson", "pool", "threshold-or-timed", "poisson "}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(parse_strategy(bad).error() == Error::invalid_argument); }
  }
}

BOOST_AUTO_TEST_CASE(make_mix_validates_the_parameters_each_strategy_uses) {
  SeededRng rng(1);
  for (Strategy s : kAll) BOOST_TEST(make_mix(config(s), rng).ok());

  auto rejects = [&](Strategy s, auto edit) {
    MixConfig c = config(s);
    edit(c);
    return make_mix(c, rng).error() == Error::invalid_argument;
  };
  BOOST_TEST(rejects(Strategy::threshold, [](MixConfig& c) { c.threshold = 0; }));
  BOOST_TEST(rejects(Strategy::threshold_or_timed, [](MixConfig& c) { c.threshold = 0; }));
  BOOST_TEST(rejects(Strategy::threshold_or_timed, [](MixConfig& c) { c.interval = 0; }));
  BOOST_TEST(rejects(Strategy::timed, [](MixConfig& c) { c.interval = 0; }));
  BOOST_TEST(rejects(Strategy::timed, [](MixConfig& c) { c.interval = -5; }));
  BOOST_TEST(rejects(Strategy::binomial, [](MixConfig& c) { c.interval = 0; }));
  BOOST_TEST(rejects(Strategy::binomial, [](MixConfig& c) { c.probability = 0; }));
  BOOST_TEST(rejects(Strategy::binomial, [](MixConfig& c) { c.probability = 1.01; }));
  BOOST_TEST(rejects(Strategy::binomial, [](MixConfig& c) { c.probability = std::nan(""); }));
  BOOST_TEST(rejects(Strategy::poisson, [](MixConfig& c) { c.mean_delay = -1; }));
  BOOST_TEST(rejects(static_cast<Strategy>(99), [](MixConfig&) {}));

  // Parameters a strategy does not use are not checked.
  BOOST_TEST(!rejects(Strategy::poisson, [](MixConfig& c) { c.threshold = 0; }));
  BOOST_TEST(!rejects(Strategy::timed, [](MixConfig& c) { c.probability = 0; }));
  BOOST_TEST(!rejects(Strategy::binomial, [](MixConfig& c) { c.probability = 1.0; }));
  BOOST_TEST(!rejects(Strategy::poisson, [](MixConfig& c) { c.mean_delay = 0; }));
}

BOOST_AUTO_TEST_CASE(none_releases_everything_at_once) {
  SeededRng rng(2);
  auto m = make(config(Strategy::none), rng);
  BOOST_TEST(m->next_deadline() == kNever);
  m->add(1, 5);
  m->add(2, 7);
  m->add(3, 7);
  BOOST_TEST(m->size() == 3u);
  BOOST_TEST(m->next_deadline() == 5);
  BOOST_TEST(as_set(m->release(7)) == range_set(1, 4));
  BOOST_TEST(m->size() == 0u);
  BOOST_TEST(m->next_deadline() == kNever);
  BOOST_TEST(m->release(8).empty());
  m->add(4, 9);
  BOOST_TEST(m->next_deadline() == 9);
  BOOST_TEST(m->release(9) == std::vector<uint64_t>{4});
}

BOOST_AUTO_TEST_CASE(threshold_flushes_exactly_at_n) {
  SeededRng rng(3);
  MixConfig c = config(Strategy::threshold);
  c.threshold = 5;
  auto m = make(c, rng);
  uint64_t id = 0;
  Micros t = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      m->add(id++, t += 10);
      BOOST_TEST(m->next_deadline() == kNever);
      BOOST_TEST(m->release(t + 1'000'000).empty());  // no amount of waiting flushes 4
    }
    m->add(id++, t += 10);
    BOOST_TEST(m->next_deadline() == t);
    const auto out = m->release(t);
    BOOST_TEST(out.size() == 5u);
    BOOST_TEST(as_set(out) == range_set(id - 5, id));
    BOOST_TEST(m->size() == 0u);
    BOOST_TEST(m->next_deadline() == kNever);
  }
  // Arrivals between the threshold and the release all leave in that flush.
  for (int i = 0; i < 7; ++i) m->add(id++, t);
  BOOST_TEST(m->next_deadline() == t);
  BOOST_TEST(m->release(t).size() == 7u);
}

BOOST_AUTO_TEST_CASE(timed_flushes_on_a_fixed_schedule) {
  SeededRng rng(4);
  MixConfig c = config(Strategy::timed);
  c.interval = 100;
  auto m = make(c, rng);
  m->add(1, 30);  // t0 = 30: ticks at 130, 230, 330, ...
  m->add(2, 50);
  BOOST_TEST(m->next_deadline() == 130);
  m->add(3, 129);
  BOOST_TEST(m->release(129).empty());
  BOOST_TEST(as_set(m->release(130)) == range_set(1, 4));
  BOOST_TEST(m->next_deadline() == kNever);  // empty: only an arrival matters

  m->add(4, 150);
  BOOST_TEST(m->next_deadline() == 230);
  BOOST_TEST(m->release(230) == std::vector<uint64_t>{4});
  m->add(5, 260);
  BOOST_TEST(m->next_deadline() == 330);  // the schedule keeps its phase
  BOOST_TEST(m->release(330) == std::vector<uint64_t>{5});

  // A long idle gap: the next arrival waits for the next point of the same schedule.
  m->add(6, 745);
  BOOST_TEST(m->next_deadline() == 830);
  // An arrival exactly on a tick, before that tick's release, leaves with it.
  m->add(7, 830);
  BOOST_TEST(as_set(m->release(830)) == range_set(6, 8));
  // A late release flushes once and resumes at the first tick after it.
  m->add(8, 831);
  BOOST_TEST(m->release(1075) == std::vector<uint64_t>{8});
  m->add(9, 1075);
  BOOST_TEST(m->next_deadline() == 1130);
}

BOOST_AUTO_TEST_CASE(threshold_or_timed_flushes_on_either_trigger) {
  SeededRng rng(5);
  MixConfig c = config(Strategy::threshold_or_timed);
  c.threshold = 3;
  c.interval = 100;
  auto m = make(c, rng);
  m->add(1, 0);
  BOOST_TEST(m->next_deadline() == 100);
  m->add(2, 10);
  BOOST_TEST(m->release(15).empty());
  m->add(3, 20);  // threshold reached before the timer
  BOOST_TEST(m->next_deadline() == 20);
  BOOST_TEST(as_set(m->release(20)) == range_set(1, 4));
  BOOST_TEST(m->next_deadline() == kNever);

  m->add(4, 50);  // the timer restarted at the flush (20): due at 120
  BOOST_TEST(m->next_deadline() == 120);
  BOOST_TEST(m->release(119).empty());
  BOOST_TEST(m->release(120) == std::vector<uint64_t>{4});  // timer trigger, 1 < threshold

  m->add(5, 300);  // periods 220, 320, ... passed empty; phase kept from 120
  BOOST_TEST(m->next_deadline() == 320);
  m->add(6, 310);
  m->add(7, 315);
  BOOST_TEST(m->next_deadline() == 315);
  BOOST_TEST(as_set(m->release(315)) == range_set(5, 8));
  m->add(8, 316);
  BOOST_TEST(m->next_deadline() == 415);  // restarted at the threshold flush
}

BOOST_AUTO_TEST_CASE(binomial_keeps_min_pool_and_ticks_on_schedule) {
  SeededRng rng(6);
  MixConfig c = config(Strategy::binomial);
  c.interval = 1000;
  c.probability = 1.0;
  c.min_pool = 5;
  auto m = make(c, rng);
  for (uint64_t i = 0; i < 8; ++i) m->add(i, 0);
  BOOST_TEST(m->next_deadline() == 1000);
  BOOST_TEST(m->release(999).empty());
  BOOST_TEST(m->release(1000).size() == 3u);  // p = 1, but 5 must stay
  BOOST_TEST(m->size() == 5u);
  BOOST_TEST(m->next_deadline() == kNever);   // nothing can leave without an arrival
  BOOST_TEST(m->release(2000).empty());
  m->add(8, 2500);
  BOOST_TEST(m->next_deadline() == 3000);
  BOOST_TEST(m->release(3000).size() == 1u);
  BOOST_TEST(m->size() == 5u);
  const auto rest = m->drain();
  BOOST_TEST(rest.size() == 5u);
  BOOST_TEST(m->size() == 0u);

  // Never below min_pool with p < 1 either, and survivors are chosen uniformly: each of 10 pooled
  // ids leaves in half of 4000 rounds (sd 31.6; tolerance 160 ≈ 5 sd).
  MixConfig u = config(Strategy::binomial);
  u.interval = 10;
  u.probability = 0.9;
  u.min_pool = 5;
  SeededRng rng2(7);
  auto b = make(u, rng2);
  std::vector<int> left(10, 0);
  Micros t = 0;
  for (int round = 0; round < 4000; ++round) {
    (void)b->drain();
    for (uint64_t i = 0; i < 10; ++i) b->add(i, t);
    t += 10;
    const auto out = b->release(t);
    BOOST_REQUIRE_LE(out.size(), 5u);
    BOOST_REQUIRE_GE(b->size(), 5u);
    for (auto id : out) ++left[id];
  }
  for (int i = 0; i < 10; ++i) {
    BOOST_TEST_CONTEXT("id " << i) { BOOST_TEST(std::abs(left[i] - 2000) < 160); }
  }
}

BOOST_AUTO_TEST_CASE(binomial_departures_have_mean_pn_and_variance_pnq) {
  // The pool is topped up to n before each tick; departures per tick ~ Bin(n, p).
  // 2000 ticks: the sample mean has sd sqrt(npq/2000) and the sample variance sd ≈ npq·sqrt(2/2000);
  // the tolerances below are ≥ 4.5 of those sds.
  struct Case {
    double p;
    std::size_t n;
  };
  for (Case k : {Case{0.3, 100}, Case{0.8, 100}, Case{0.02, 1000}, Case{0.5, 7}}) {
    BOOST_TEST_CONTEXT("p " << k.p << " n " << k.n) {
      SeededRng rng(static_cast<uint64_t>(k.p * 1000) + k.n);
      MixConfig c = config(Strategy::binomial);
      c.interval = 50;
      c.probability = k.p;
      auto m = make(c, rng);
      uint64_t next_id = 0;
      Micros t = 0;
      const int ticks = 2000;
      double sum = 0, sum2 = 0;
      for (int i = 0; i < ticks; ++i) {
        while (m->size() < k.n) m->add(next_id++, t);
        t += 50;
        BOOST_REQUIRE_EQUAL(m->next_deadline(), t);
        const double d = static_cast<double>(m->release(t).size());
        sum += d;
        sum2 += d * d;
      }
      const double n = static_cast<double>(k.n);
      const double mean = sum / ticks;
      const double var = (sum2 - sum * sum / ticks) / (ticks - 1);
      const double npq = n * k.p * (1 - k.p);
      BOOST_TEST(std::abs(mean - n * k.p) < 4.5 * std::sqrt(npq / ticks));
      BOOST_TEST(std::abs(var - npq) < 4.5 * npq * std::sqrt(2.0 / ticks) + 0.05);
    }
  }
}

BOOST_AUTO_TEST_CASE(poisson_delays_are_exponential_and_released_in_due_order) {
  const int n = 20'000;
  const Micros mean = 200'000;
  MixConfig c = config(Strategy::poisson);
  c.mean_delay = mean;
  SeededRng rng_a(8), rng_b(8);
  auto a = make(c, rng_a);
  auto b = make(c, rng_b);
  for (uint64_t i = 0; i < n; ++i) {
    a->add(i, 1000);
    b->add(i, 1000);
  }
  // Step through a: every release happens exactly at next_deadline and returns only due packets.
  std::vector<Micros> due(n, -1);
  Micros last = 0;
  double sum = 0;
  int over_mean = 0;
  while (a->size() > 0) {
    const Micros t = a->next_deadline();
    BOOST_REQUIRE_GE(t, last);
    BOOST_REQUIRE(a->release(t - 1).empty());
    const auto out = a->release(t);
    BOOST_REQUIRE(!out.empty());
    for (auto id : out) {
      BOOST_REQUIRE_EQUAL(due[id], -1);
      due[id] = t;
      sum += static_cast<double>(t - 1000);
      over_mean += t - 1000 > mean;
    }
    last = t;
  }
  BOOST_TEST(a->next_deadline() == kNever);
  // Mean of 20k Exp(200 ms): sd 1.41 ms; tolerance 3% = 6 ms ≈ 4.2 sd.
  BOOST_TEST(std::abs(sum / n - static_cast<double>(mean)) < 0.03 * static_cast<double>(mean));
  // P(delay > mean) = 1/e; sd 0.0034; tolerance 0.015 ≈ 4.4 sd.
  BOOST_TEST(std::abs(static_cast<double>(over_mean) / n - std::exp(-1.0)) < 0.015);

  // The same draws (same seed), released late in one go, come out in due-time order.
  const auto all = b->release(kNever - 1);
  BOOST_REQUIRE_EQUAL(all.size(), static_cast<std::size_t>(n));
  for (std::size_t i = 1; i < all.size(); ++i) BOOST_REQUIRE_LE(due[all[i - 1]], due[all[i]]);
  BOOST_TEST(as_set(all) == range_set(0, n));
}

BOOST_AUTO_TEST_CASE(poisson_mean_zero_forwards_at_once_and_delays_start_at_arrival) {
  SeededRng rng(9);
  MixConfig c = config(Strategy::poisson);
  c.mean_delay = 0;
  auto m = make(c, rng);
  m->add(1, 500);
  BOOST_TEST(m->next_deadline() == 500);
  BOOST_TEST(m->release(500) == std::vector<uint64_t>{1});

  c.mean_delay = 1000;
  auto p = make(c, rng);
  for (uint64_t i = 0; i < 200; ++i) p->add(i, 10'000 + static_cast<Micros>(i) * 100);
  BOOST_TEST(p->release(9'999).empty());
  BOOST_TEST(p->next_deadline() >= 10'000);
  // Packet i can't leave before its own arrival time.
  std::size_t seen = 0;
  while (p->size() > 0) {
    const Micros t = p->next_deadline();
    for (auto id : p->release(t)) {
      BOOST_REQUIRE_GE(t, 10'000 + static_cast<Micros>(id) * 100);
      ++seen;
    }
  }
  BOOST_TEST(seen == 200u);
}

BOOST_AUTO_TEST_CASE(output_order_within_a_flush_is_a_uniform_permutation) {
  // Flushes of 8 (positions, 49 df) and of 4 (all 24 permutations, 23 df), 30000 flushes each,
  // for every strategy that flushes batches, and for drain().
  for (Strategy s : {Strategy::none, Strategy::threshold, Strategy::timed,
                     Strategy::threshold_or_timed, Strategy::binomial}) {
    for (std::size_t n : {std::size_t{8}, std::size_t{4}}) {
      BOOST_TEST_CONTEXT(strategy_name(s) << " n " << n) {
        SeededRng rng(100 + static_cast<uint64_t>(s) * 10 + n);
        MixConfig c = config(s);
        c.threshold = n;
        c.interval = 10;
        c.probability = 1.0;
        auto m = make(c, rng);
        Micros t = 0;
        const auto st = order_statistics(n, 30'000, [&](const std::vector<uint64_t>& ids) {
          for (auto id : ids) m->add(id, t);
          t += 10;
          return m->release(t);
        });
        BOOST_TEST_MESSAGE(strategy_name(s) << " n " << n << ": chi2 positions " << st.positions
                                              << " permutations " << st.permutations);
        BOOST_TEST(st.well_formed);
        if (n == 8) BOOST_TEST(st.positions < kChi2Positions8);
        if (n == 4) BOOST_TEST(st.permutations < kChi2Perms4);
      }
    }
  }
  for (Strategy s : kAll) {
    BOOST_TEST_CONTEXT("drain " << strategy_name(s)) {
      SeededRng rng(200 + static_cast<uint64_t>(s));
      MixConfig c = config(s);
      c.threshold = 1000;
      auto m = make(c, rng);
      const auto st = order_statistics(4, 30'000, [&](const std::vector<uint64_t>& ids) {
        for (auto id : ids) m->add(id, 0);
        return m->drain();
      });
      BOOST_TEST_MESSAGE("drain " << strategy_name(s) << ": chi2 permutations " << st.permutations);
      BOOST_TEST(st.well_formed);
      BOOST_TEST(st.permutations < kChi2Perms4);
    }
  }
}

BOOST_AUTO_TEST_CASE(chi_square_check_rejects_biased_orders) {
  // The checks above can fail: the identity order and a random rotation (uniform positions,
  // but only 4 of 24 permutations) both exceed the critical values.
  const auto identity = order_statistics(8, 30'000, [](const std::vector<uint64_t>& ids) { return ids; });
  BOOST_TEST(identity.well_formed);
  BOOST_TEST(identity.positions > kChi2Positions8);
  SeededRng rng(11);
  const auto rotated = order_statistics(4, 30'000, [&](std::vector<uint64_t> ids) {
    std::rotate(ids.begin(), ids.begin() + static_cast<long>(rng.uniform(4)), ids.end());
    return ids;
  });
  BOOST_TEST(rotated.permutations > kChi2Perms4);
}

BOOST_AUTO_TEST_CASE(drain_returns_everything_once) {
  for (Strategy s : kAll) {
    BOOST_TEST_CONTEXT(strategy_name(s)) {
      SeededRng rng(12);
      MixConfig c = config(s);
      c.min_pool = 3;
      auto m = make(c, rng);
      for (uint64_t i = 0; i < 100; ++i) m->add(i, static_cast<Micros>(i));
      auto out = m->release(50);
      const auto rest = m->drain();
      out.insert(out.end(), rest.begin(), rest.end());
      BOOST_TEST(as_set(out) == range_set(0, 100));
      BOOST_TEST(m->size() == 0u);
      BOOST_TEST(m->next_deadline() == kNever);
      BOOST_TEST(m->drain().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(nothing_leaves_before_next_deadline_and_nothing_is_lost) {
  // Random arrivals; the driver releases only at next_deadline (as the daemon's timer does) and
  // probes one microsecond earlier, which must return nothing. Every id leaves exactly once.
  for (Strategy s : kAll) {
    BOOST_TEST_CONTEXT(strategy_name(s)) {
      SeededRng rng(13), arrivals(14);
      MixConfig c = config(s);
      c.threshold = 7;
      c.interval = 5'000;
      c.probability = 0.4;
      c.min_pool = 2;
      c.mean_delay = 8'000;
      auto m = make(c, rng);
      std::vector<int> out_count(5000, 0);
      Micros t = 0;
      auto release_until = [&](Micros until) {
        for (Micros d = m->next_deadline(); d <= until; d = m->next_deadline()) {
          if (d > t) {
            BOOST_REQUIRE(m->release(d - 1).empty());
            t = d;
          }
          const auto out = m->release(t);
          // A binomial round may draw zero departures; every other strategy releases something.
          if (s != Strategy::binomial) BOOST_REQUIRE(!out.empty());
          for (auto id : out) ++out_count[id];
        }
      };
      for (uint64_t id = 0; id < 5000; ++id) {
        const Micros at = t + static_cast<Micros>(arrivals.uniform(3000));
        release_until(at);
        t = std::max(t, at);
        m->add(id, t);
      }
      release_until(kNever - 1);
      for (auto id : m->drain()) ++out_count[id];
      BOOST_TEST(std::count(out_count.begin(), out_count.end(), 1) == 5000);
    }
  }
}

BOOST_AUTO_TEST_CASE(exponential_delay_helper) {
  SeededRng rng(15);
  BOOST_TEST(exponential_delay(0, rng) == 0);
  BOOST_TEST(exponential_delay(-5, rng) == 0);
  double sum = 0;
  for (int i = 0; i < 20'000; ++i) {
    const Micros d = exponential_delay(1'000'000, rng);
    BOOST_REQUIRE_GE(d, 0);
    sum += static_cast<double>(d);
  }
  BOOST_TEST(std::abs(sum / 20'000 - 1e6) < 0.03e6);  // sd 0.7%; 3% ≈ 4.2 sd
}

BOOST_AUTO_TEST_SUITE_END()

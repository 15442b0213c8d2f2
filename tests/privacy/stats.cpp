// Statistics of the privacy suite (see stats.h).
#include "stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "base/rng.h"

namespace veil::privacy::stats {

namespace {

// Regularized lower incomplete gamma P(a, x) by its series (x < a + 1).
double gamma_p_series(double a, double x) {
  double ap = a, del = 1.0 / a, sum = del;
  for (int i = 0; i < 100000; ++i) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (std::fabs(del) < std::fabs(sum) * 1e-15) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularized upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1), Lentz.
double gamma_q_fraction(double a, double x) {
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double chi2_sf(double x, double df) {
  if (x <= 0) return 1;
  const double a = df / 2, y = x / 2;
  return y < a + 1 ? 1 - gamma_p_series(a, y) : gamma_q_fraction(a, y);
}

std::vector<double> fixed_points_pmf(int k) {
  // R(k, j) = C(k, j) * D(k - j), D = derangement numbers; divided by k!.
  std::vector<double> der(static_cast<std::size_t>(k) + 1, 0);
  der[0] = 1;
  if (k >= 1) der[1] = 0;
  for (int n = 2; n <= k; ++n) {
    der[static_cast<std::size_t>(n)] =
        (n - 1) * (der[static_cast<std::size_t>(n - 1)] + der[static_cast<std::size_t>(n - 2)]);
  }
  std::vector<double> pmf(static_cast<std::size_t>(k) + 1, 0);
  const double kfact = std::tgamma(k + 1.0);
  for (int j = 0; j <= k; ++j) {
    const double choose = std::tgamma(k + 1.0) / (std::tgamma(j + 1.0) * std::tgamma(k - j + 1.0));
    pmf[static_cast<std::size_t>(j)] = choose * der[static_cast<std::size_t>(k - j)] / kfact;
  }
  return pmf;
}

std::vector<double> binomial_pmf(std::size_t n, double p) {
  std::vector<double> pmf(n + 1, 0);
  const double dn = static_cast<double>(n);
  for (std::size_t j = 0; j <= n; ++j) {
    const double dj = static_cast<double>(j);
    pmf[j] = std::exp(std::lgamma(dn + 1) - std::lgamma(dj + 1) - std::lgamma(dn - dj + 1) +
                      dj * std::log(p) + (dn - dj) * std::log1p(-p));
  }
  return pmf;
}

std::vector<double> poisson_pmf(double lambda, std::size_t max) {
  std::vector<double> pmf(max + 1, 0);
  for (std::size_t j = 0; j <= max; ++j) {
    const double dj = static_cast<double>(j);
    pmf[j] = lambda == 0 ? (j == 0 ? 1.0 : 0.0)
                         : std::exp(dj * std::log(lambda) - lambda - std::lgamma(dj + 1));
  }
  return pmf;
}

std::vector<double> convolve_power(const std::vector<double>& pmf, std::size_t m) {
  std::vector<double> acc{1.0};
  for (std::size_t r = 0; r < m; ++r) {
    std::vector<double> next(acc.size() + pmf.size() - 1, 0);
    for (std::size_t i = 0; i < acc.size(); ++i) {
      if (acc[i] == 0) continue;
      for (std::size_t j = 0; j < pmf.size(); ++j) next[i + j] += acc[i] * pmf[j];
    }
    acc.swap(next);
  }
  return acc;
}

std::size_t upper_threshold(const std::vector<double>& pmf, double alpha) {
  // Tails summed from the top (small terms first) for accuracy.
  double tail = 0;
  std::size_t c = pmf.size();
  for (std::size_t x = pmf.size(); x-- > 0;) {
    tail += pmf[x];
    if (tail > alpha) break;
    c = x;
  }
  return c;
}

double LinkingResult::best_rate() const {
  if (outputs == 0) return 0;
  return static_cast<double>(std::max({fifo, lifo, uniform})) / static_cast<double>(outputs);
}

LinkingResult analyse_linking(const std::vector<Flush>& flushes, int k, double alpha,
                              uint64_t seed) {
  LinkingResult r;
  SeededRng rng(seed);
  for (const Flush& f : flushes) {
    if (f.size() != static_cast<std::size_t>(k)) throw std::invalid_argument("flush of wrong size");
    for (int j = 0; j < k; ++j) {
      const int truth = f[static_cast<std::size_t>(j)];
      r.fifo += truth == j;
      r.lifo += truth == k - 1 - j;
      r.uniform += truth == static_cast<int>(rng.uniform(static_cast<uint64_t>(k)));
      ++r.outputs;
    }
  }
  const auto perm_sum = convolve_power(fixed_points_pmf(k), flushes.size());
  r.fifo_limit = r.lifo_limit = upper_threshold(perm_sum, alpha / 3);
  r.uniform_limit = upper_threshold(binomial_pmf(r.outputs, 1.0 / k), alpha / 3);
  return r;
}

OrderResult analyse_order(const std::vector<Flush>& flushes, int k) {
  OrderResult r;
  const auto uk = static_cast<std::size_t>(k);
  r.table.assign(uk, std::vector<uint64_t>(uk, 0));
  double rho_sum = 0;
  const double dk = k;
  for (const Flush& f : flushes) {
    if (f.size() != uk) throw std::invalid_argument("flush of wrong size");
    double d2 = 0;
    for (std::size_t j = 0; j < uk; ++j) {
      ++r.table[static_cast<std::size_t>(f[j])][j];
      const double d = f[j] - static_cast<double>(j);
      d2 += d * d;
    }
    rho_sum += 1 - 6 * d2 / (dk * (dk * dk - 1));
  }
  const double m = static_cast<double>(flushes.size());
  const double e = m / dk;
  double x = 0;
  for (const auto& row : r.table) {
    for (uint64_t o : row) x += (static_cast<double>(o) - e) * (static_cast<double>(o) - e) / e;
  }
  // A sum of m uniform permutation matrices: T - E has covariance m/(k-1) times the projection
  // onto the (k-1)^2-dimensional space of zero row and column sums (an irreducible
  // representation, so the covariance is a scalar there). Hence X * (k-1)/k ~ chi2((k-1)^2).
  r.chi2 = x * (dk - 1) / dk;
  r.df = (dk - 1) * (dk - 1);
  r.chi2_p = chi2_sf(r.chi2, r.df);
  // Per flush, Spearman's rho under a uniform permutation has mean 0 and variance 1/(k-1).
  r.spearman = rho_sum / m;
  r.spearman_z = r.spearman * std::sqrt(m * (dk - 1));
  r.spearman_p = 2 * normal_sf(std::fabs(r.spearman_z));
  return r;
}

PosteriorStats mass_recursion(const std::vector<double>& arrivals,
                              const std::vector<std::pair<double, int>>& departures) {
  std::vector<int> order(arrivals.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return arrivals[static_cast<std::size_t>(a)] < arrivals[static_cast<std::size_t>(b)];
  });
  std::vector<std::pair<double, int>> deps = departures;
  std::sort(deps.begin(), deps.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  struct Mass {
    int id;
    double m;
  };
  std::vector<Mass> inside;  // arrival order; masses below 1e-14 are pruned
  double n = 0;
  PosteriorStats s;
  double h_sum = 0, hmin_sum = 0, p_true_sum = 0;
  std::size_t hits = 0;
  std::size_t ai = 0;
  for (const auto& [t, truth] : deps) {
    while (ai < order.size() && arrivals[static_cast<std::size_t>(order[ai])] <= t) {
      inside.push_back({order[ai], 1.0});
      n += 1;
      ++ai;
    }
    if (n < 0.5) {
      ++s.anomalies;
      continue;
    }
    double h = 0, maxp = 0, p_true = 0;
    int best = -1;
    bool found = false;
    for (const Mass& x : inside) {
      const double p = x.m / n;
      if (p > 0) h -= p * std::log2(p);
      if (p > maxp * (1 + 1e-12)) {
        maxp = p;
        best = x.id;
      } else if (p >= maxp * (1 - 1e-12)) {
        best = x.id;  // a tie: the newer input
      }
      if (x.id == truth) {
        p_true = p;
        found = true;
      }
    }
    if (!found) ++s.anomalies;
    h_sum += h;
    hmin_sum += maxp > 0 ? -std::log2(maxp) : 0;
    p_true_sum += p_true;
    hits += best == truth;
    ++s.outputs;
    const double factor = (n - 1) / n;
    for (Mass& x : inside) x.m *= factor;
    n -= 1;
    std::erase_if(inside, [](const Mass& x) { return x.m < 1e-14; });
  }
  if (s.outputs > 0) {
    const double o = static_cast<double>(s.outputs);
    s.mean_entropy = h_sum / o;
    s.mean_min_entropy = hmin_sum / o;
    s.best_guess = static_cast<double>(hits) / o;
    s.mean_p_true = p_true_sum / o;
  }
  return s;
}

SyntheticResult simulate_poisson_mix(const std::vector<double>& arrivals, double mean_delay,
                                     std::size_t reps, uint64_t seed) {
  SeededRng rng(seed);
  SyntheticResult r;
  r.reps = reps;
  double sum[4] = {0, 0, 0, 0}, sq[4] = {0, 0, 0, 0};
  for (std::size_t rep = 0; rep < reps; ++rep) {
    std::vector<std::pair<double, int>> deps;
    deps.reserve(arrivals.size());
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      deps.emplace_back(arrivals[i] - mean_delay * std::log1p(-rng.unit()), static_cast<int>(i));
    }
    const PosteriorStats s = mass_recursion(arrivals, deps);
    const double v[4] = {s.mean_entropy, s.mean_min_entropy, s.best_guess, s.mean_p_true};
    for (int i = 0; i < 4; ++i) {
      sum[i] += v[i];
      sq[i] += v[i] * v[i];
    }
    r.mean.outputs = s.outputs;
  }
  const double n = static_cast<double>(reps);
  double mean[4], sd[4];
  for (int i = 0; i < 4; ++i) {
    mean[i] = sum[i] / n;
    sd[i] = std::sqrt(std::max(0.0, (sq[i] - n * mean[i] * mean[i]) / (n - 1)));
  }
  r.mean.mean_entropy = mean[0];
  r.mean.mean_min_entropy = mean[1];
  r.mean.best_guess = mean[2];
  r.mean.mean_p_true = mean[3];
  r.sd.mean_entropy = sd[0];
  r.sd.mean_min_entropy = sd[1];
  r.sd.best_guess = sd[2];
  r.sd.mean_p_true = sd[3];
  return r;
}

PopulationResult compare_populations(const std::vector<Bytes>& a, const std::vector<Bytes>& b,
                                     const std::vector<Region>& regions) {
  if (a.empty() || b.empty()) throw std::invalid_argument("empty population");
  const std::size_t len = a.front().size();
  for (const auto* pop : {&a, &b}) {
    for (const Bytes& x : *pop) {
      if (x.size() != len) throw std::invalid_argument("packets of different sizes");
    }
  }
  PopulationResult r;
  std::vector<double> sa(len, 0), sb(len, 0);
  for (const Bytes& x : a) {
    for (std::size_t i = 0; i < len; ++i) sa[i] += x[i];
  }
  for (const Bytes& x : b) {
    for (std::size_t i = 0; i < len; ++i) sb[i] += x[i];
  }
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double var_u = (256.0 * 256.0 - 1) / 12;
  const double se = std::sqrt(var_u * (1 / na + 1 / nb));
  for (std::size_t i = 0; i < len; ++i) {
    const double z = std::fabs(sa[i] / na - sb[i] / nb) / se;
    if (z > r.max_abs_z) {
      r.max_abs_z = z;
      r.argmax = i;
    }
  }
  std::vector<double> ba(len * 8, 0), bb(len * 8, 0);
  for (const auto& [pop, ones] : {std::pair{&a, &ba}, std::pair{&b, &bb}}) {
    for (const Bytes& x : *pop) {
      for (std::size_t i = 0; i < len; ++i) {
        for (std::size_t k = 0; k < 8; ++k) (*ones)[8 * i + k] += (x[i] >> k) & 1;
      }
    }
  }
  for (std::size_t i = 0; i < len * 8; ++i) {
    const double pooled = (ba[i] + bb[i]) / (na + nb);
    const double bse = std::sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
    const double diff = std::fabs(ba[i] / na - bb[i] / nb);
    const double z = bse > 0 ? diff / bse : (diff > 0 ? std::numeric_limits<double>::infinity() : 0);
    if (z > r.max_abs_bit_z) {
      r.max_abs_bit_z = z;
      r.bit_argmax = i;
    }
  }
  for (const Region& g : regions) {
    std::vector<double> ca(256, 0), cb(256, 0);
    for (const Bytes& x : a) {
      for (std::size_t i = g.begin; i < g.end; ++i) ca[x[i]] += 1;
    }
    for (const Bytes& x : b) {
      for (std::size_t i = g.begin; i < g.end; ++i) cb[x[i]] += 1;
    }
    const double ta = na * static_cast<double>(g.end - g.begin);
    const double tb = nb * static_cast<double>(g.end - g.begin);
    double x2 = 0;
    for (int v = 0; v < 256; ++v) {
      const double tot = ca[static_cast<std::size_t>(v)] + cb[static_cast<std::size_t>(v)];
      if (tot == 0) continue;
      const double ea = tot * ta / (ta + tb), eb = tot * tb / (ta + tb);
      const double da = ca[static_cast<std::size_t>(v)] - ea, db = cb[static_cast<std::size_t>(v)] - eb;
      x2 += da * da / ea + db * db / eb;
    }
    r.region_chi2.push_back(x2);
    r.region_p.push_back(chi2_sf(x2, 255));
  }
  return r;
}

std::vector<std::size_t> find_all(ByteView hay, ByteView needle) {
  std::vector<std::size_t> out;
  if (needle.empty() || hay.size() < needle.size()) return out;
  const std::boyer_moore_horspool_searcher searcher(needle.begin(), needle.end());
  auto it = hay.begin();
  for (;;) {
    it = std::search(it, hay.end(), searcher);
    if (it == hay.end()) break;
    out.push_back(static_cast<std::size_t>(it - hay.begin()));
    ++it;
  }
  return out;
}

std::vector<std::size_t> find_u64_in_range(ByteView hay, uint64_t lo, uint64_t hi) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i + 8 <= hay.size(); ++i) {
    uint64_t be = 0, le = 0;
    for (std::size_t j = 0; j < 8; ++j) {
      be = be << 8 | hay[i + j];
      le = le << 8 | hay[i + 7 - j];
    }
    if ((be >= lo && be <= hi) || (le >= lo && le <= hi)) out.push_back(i);
  }
  return out;
}

std::size_t count_u32_in_range(ByteView hay, uint32_t lo, uint32_t hi) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 4 <= hay.size(); ++i) {
    const uint32_t be = static_cast<uint32_t>(hay[i]) << 24 | static_cast<uint32_t>(hay[i + 1]) << 16 |
                        static_cast<uint32_t>(hay[i + 2]) << 8 | hay[i + 3];
    const uint32_t le = static_cast<uint32_t>(hay[i + 3]) << 24 | static_cast<uint32_t>(hay[i + 2]) << 16 |
                        static_cast<uint32_t>(hay[i + 1]) << 8 | hay[i];
    n += be >= lo && be <= hi;
    n += le >= lo && le <= hi;
  }
  return n;
}

std::vector<std::size_t> find_decimal_in_range(ByteView hay, std::size_t digits, uint64_t lo,
                                               uint64_t hi) {
  std::vector<std::size_t> out;
  std::size_t i = 0;
  while (i < hay.size()) {
    if (hay[i] < '0' || hay[i] > '9') {
      ++i;
      continue;
    }
    std::size_t e = i;
    while (e < hay.size() && hay[e] >= '0' && hay[e] <= '9') ++e;
    for (std::size_t s = i; s + digits <= e; ++s) {
      uint64_t v = 0;
      for (std::size_t j = 0; j < digits; ++j) v = v * 10 + (hay[s + j] - '0');
      if (v >= lo && v <= hi) out.push_back(s);
    }
    i = e;
  }
  return out;
}

std::vector<std::size_t> find_varint_in_range(ByteView hay, uint64_t lo, uint64_t hi) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < hay.size(); ++i) {
    uint64_t v = 0;
    bool done = false;
    for (std::size_t j = 0; j < 10 && i + j < hay.size(); ++j) {
      v |= static_cast<uint64_t>(hay[i + j] & 0x7F) << (7 * j);
      if ((hay[i + j] & 0x80) == 0) {
        done = true;
        break;
      }
    }
    if (done && v >= lo && v <= hi) out.push_back(i);
  }
  return out;
}

}  // namespace veil::privacy::stats

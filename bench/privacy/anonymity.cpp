// Per-output posterior by the mass recursion, scored against ground truth; size leakage; SDA.
//
// The recursion (reference/mixnets-and-metrics.md §5): keep a mass M_i per input and the pool
// count n; an input adds mass 1; a flush of s outputs gives each output the distribution M/n, then
// M *= (n−s)/n and n −= s. Processing a flush one output at a time with s = 1 gives the same
// distributions, so one engine serves batch, pool and Poisson mixes; strategies differ only in how
// outputs are grouped into observed flushes (inputs join the pool only between flushes).
//
// Every mass is the common factor G = Π(n−1)/n times a per-input weight w_i = 1/G(at arrival), so
// an output step touches no per-input state: the engine keeps Σw, Σw·ln w in total, per sender and
// per size class, which gives every entropy in O(1). Weights are kept as exp(ln w − R) with an
// offset R that is moved (rescaling the sums) before they overflow; a flush that empties the pool
// (factor 0) starts a new epoch in which every older input has mass 0.
#include "bench/privacy/anonymity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace veil::bench::privacy {
namespace {

constexpr double kLn2 = 0.69314718055994530942;
double xlogx(double x) { return x > 0 ? x * std::log(x) : 0.0; }

// Labelled weight sums: per label Σw and Σw·ln w (relative to the engine's offset).
struct LabelSums {
  std::vector<double> w1, w2;
  std::vector<uint32_t> touched;
  std::vector<uint8_t> is_touched;
  explicit LabelSums(std::size_t n) : w1(n, 0.0), w2(n, 0.0), is_touched(n, 0) {}
  void add(std::size_t label, double w, double lnw) {
    if (!is_touched[label]) {
      is_touched[label] = 1;
      touched.push_back(static_cast<uint32_t>(label));
    }
    w1[label] += w;
    w2[label] += w * lnw;
  }
  void rescale(double e, double delta) {
    for (uint32_t l : touched) {
      w2[l] = e * (w2[l] - delta * w1[l]);
      w1[l] *= e;
    }
  }
  void clear() {
    for (uint32_t l : touched) {
      w1[l] = w2[l] = 0;
      is_touched[l] = 0;
    }
    touched.clear();
  }
  // Entropy (nats) of the inputs in `label`, normalized within the label.
  double entropy(std::size_t label) const {
    const double a = w1[label];
    return a > 0 ? std::log(a) - w2[label] / a : 0.0;
  }
};

class PoolPosterior {
 public:
  PoolPosterior(std::size_t inputs, std::size_t senders, std::size_t max_size)
      : lnw_(inputs, 0), epoch_of_(inputs, 0), group_of_(inputs, 0), added_(inputs, 0),
        sender_w_(senders, 0), sender_touched_(senders, 0), size_(max_size + 1),
        size160_(max_size / 160 + 2) {}

  void add(std::size_t pos, uint32_t sender, uint32_t size) {
    const double lnw = -ln_g_;
    if (lnw - offset_ > 200) rebase(lnw);
    const double rel = lnw - offset_;
    const double w = std::exp(rel);
    u1_ += w;
    u2_ += w * rel;
    if (!sender_touched_[sender]) {
      sender_touched_[sender] = 1;
      senders_.push_back(sender);
    }
    q_ -= xlogx(sender_w_[sender]);
    sender_w_[sender] += w;
    q_ += xlogx(sender_w_[sender]);
    size_.add(size, w, rel);
    size160_.add((size + 159) / 160, w, rel);
    lnw_[pos] = lnw;
    epoch_of_[pos] = epoch_;
    group_of_[pos] = group_;
    added_[pos] = 1;
    if (last_count_ > 0 && last_group_ == group_ && last_epoch_ == epoch_) {
      ++last_count_;
    } else {
      last_group_ = group_;
      last_epoch_ = epoch_;
      last_count_ = 1;
    }
    last_lnw_ = lnw;
    n_ += 1;
  }

  double pool() const { return n_; }

  struct Score {
    double h, hs, hmin, h_size, h_size160, link, surprisal;
    bool miss;
  };

  // The distribution of one output whose true input is at `pos` (or -1 if never seen).
  Score score(long pos, uint32_t size) const {
    Score s{};
    const double lu = std::log(u1_);
    s.h = (lu - u2_ / u1_) / kLn2;
    s.hs = (lu - q_ / u1_) / kLn2;
    s.hmin = (lu - (last_lnw_ - offset_)) / kLn2;
    s.h_size = size_.entropy(size) / kLn2;
    s.h_size160 = size160_.entropy((size + 159) / 160) / kLn2;
    const bool alive = pos >= 0 && added_[static_cast<std::size_t>(pos)] &&
                       epoch_of_[static_cast<std::size_t>(pos)] == epoch_;
    s.miss = !alive;
    if (alive) {
      const auto p = static_cast<std::size_t>(pos);
      s.surprisal = -(lnw_[p] - offset_ - lu) / kLn2;
      s.link = (group_of_[p] == last_group_ && last_epoch_ == epoch_) ? 1.0 / static_cast<double>(last_count_) : 0.0;
    } else {
      s.surprisal = std::numeric_limits<double>::infinity();
      s.link = 0;
    }
    return s;
  }

  // One real output left: M *= (n−1)/n, n −= 1.
  void depart() {
    ++group_;
    if (n_ <= 1.0 + 1e-9) {
      reset();
      return;
    }
    ln_g_ += std::log((n_ - 1) / n_);
    n_ -= 1;
  }

 private:
  void rebase(double new_offset) {
    const double delta = new_offset - offset_;
    const double e = std::exp(-delta);
    u2_ = e * (u2_ - delta * u1_);
    u1_ *= e;
    q_ = 0;
    for (uint32_t s : senders_) {
      sender_w_[s] *= e;
      q_ += xlogx(sender_w_[s]);
    }
    size_.rescale(e, delta);
    size160_.rescale(e, delta);
    offset_ = new_offset;
  }

  void reset() {
    ++epoch_;
    ln_g_ = 0;
    offset_ = 0;
    u1_ = u2_ = q_ = 0;
    for (uint32_t s : senders_) {
      sender_w_[s] = 0;
      sender_touched_[s] = 0;
    }
    senders_.clear();
    size_.clear();
    size160_.clear();
    n_ = 0;
    last_count_ = 0;
  }

  double ln_g_ = 0;    // ln G in the current epoch (≤ 0)
  double offset_ = 0;  // R: stored weights are exp(ln w − R)
  uint32_t epoch_ = 0;
  uint64_t group_ = 0;  // real outputs processed so far; inputs between two outputs share a group
  double n_ = 0;
  double u1_ = 0, u2_ = 0, q_ = 0;
  std::vector<double> lnw_;
  std::vector<uint32_t> epoch_of_;
  std::vector<uint64_t> group_of_;
  std::vector<uint8_t> added_;
  std::vector<double> sender_w_;
  std::vector<uint8_t> sender_touched_;
  std::vector<uint32_t> senders_;
  LabelSums size_, size160_;
  uint64_t last_group_ = 0;
  uint32_t last_epoch_ = 0;
  std::size_t last_count_ = 0;
  double last_lnw_ = 0;
};

// [begin, end) index ranges of outputs forming observed flushes.
std::vector<std::pair<std::size_t, std::size_t>> bursts(const std::vector<OutputEvent>& out,
                                                        double gap) {
  std::vector<std::pair<std::size_t, std::size_t>> b;
  std::size_t i = 0;
  while (i < out.size()) {
    std::size_t j = i + 1;
    if (gap > 0) {
      while (j < out.size() && out[j].t - out[j - 1].t <= gap) ++j;
    }
    b.emplace_back(i, j);
    i = j;
  }
  return b;
}

}  // namespace

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

AnonymitySummary analyze(const Trace& trace, const std::vector<MessageFacts>& facts,
                         const AnalysisParams& params) {
  AnonymitySummary r;
  std::vector<double> hs_in, hs_sender;
  double sum_h = 0, sum_hs = 0, sum_hmin = 0, sum_link = 0, sum_sur = 0, sum_pool = 0;
  double sum_hsize = 0, sum_hsize160 = 0;
  std::size_t finite_sur = 0;
  const double log2n = params.senders > 1 ? std::log2(static_cast<double>(params.senders)) : 1.0;
  auto in_window = [&](double t) { return t >= params.window_begin && t < params.window_end; };

  if (params.model == Model::fifo) {
    std::size_t k = 0;
    for (const OutputEvent& o : trace.outputs) {
      if (o.msg < 0) continue;
      const bool hit = k < trace.inputs.size() && trace.inputs[k].msg == o.msg;
      ++k;
      if (!in_window(o.t)) continue;
      ++r.scored;
      hs_in.push_back(0);
      hs_sender.push_back(0);
      sum_link += hit ? 1 : 0;
      if (!hit) ++r.misses;
      sum_pool += 1;
    }
  } else {
    std::size_t max_msg = 0, max_size = 0, max_sender = 0;
    for (const auto& in : trace.inputs) max_msg = std::max<std::size_t>(max_msg, in.msg);
    for (const auto& o : trace.outputs) {
      if (o.msg >= 0) max_msg = std::max<std::size_t>(max_msg, static_cast<std::size_t>(o.msg));
    }
    for (const auto& f : facts) {
      max_size = std::max<std::size_t>(max_size, f.envelope_size);
      max_sender = std::max<std::size_t>(max_sender, f.sender);
    }
    std::vector<long> pos_of(max_msg + 1, -1);
    for (std::size_t i = 0; i < trace.inputs.size(); ++i) pos_of[trace.inputs[i].msg] = static_cast<long>(i);
    PoolPosterior post(trace.inputs.size(), max_sender + 1, max_size);
    std::size_t next_in = 0;
    for (const auto& [b, e] : bursts(trace.outputs, params.burst_gap)) {
      const double cutoff = trace.outputs[b].t;
      while (next_in < trace.inputs.size() && trace.inputs[next_in].t < cutoff) {
        const uint32_t m = trace.inputs[next_in].msg;
        post.add(next_in, facts[m].sender, facts[m].envelope_size);
        ++next_in;
      }
      bool real = false;
      for (std::size_t j = b; j < e; ++j) {
        const OutputEvent& o = trace.outputs[j];
        if (o.msg < 0) continue;
        real = true;
        if (post.pool() < 0.5) {
          // The observed flush holds more real packets than the pool had: flushes merged on the
          // link, so inputs sent since the burst began must be in; take those sent before this one.
          while (next_in < trace.inputs.size() && trace.inputs[next_in].t < o.t) {
            const uint32_t m = trace.inputs[next_in].msg;
            post.add(next_in, facts[m].sender, facts[m].envelope_size);
            ++next_in;
          }
        }
        if (post.pool() < 0.5) {  // nothing the adversary could link it to
          if (in_window(o.t)) {
            ++r.scored;
            ++r.misses;
            hs_in.push_back(0);
            hs_sender.push_back(0);
          }
          continue;
        }
        if (in_window(o.t)) {
          const auto s = post.score(pos_of[static_cast<std::size_t>(o.msg)],
                                    facts[static_cast<std::size_t>(o.msg)].envelope_size);
          ++r.scored;
          hs_in.push_back(s.h);
          hs_sender.push_back(s.hs);
          sum_hmin += s.hmin;
          sum_link += s.link;
          sum_hsize += s.h_size;
          sum_hsize160 += s.h_size160;
          sum_pool += post.pool();
          if (s.miss) {
            ++r.misses;
          } else {
            sum_sur += s.surprisal;
            ++finite_sur;
          }
        }
        post.depart();
      }
      if (real) ++r.flushes;
    }
  }
  if (r.scored == 0) return r;
  const double n = static_cast<double>(r.scored);
  sum_h = std::accumulate(hs_in.begin(), hs_in.end(), 0.0);
  sum_hs = std::accumulate(hs_sender.begin(), hs_sender.end(), 0.0);
  r.h_mean = sum_h / n;
  r.h_p5 = percentile(hs_in, 0.05);
  r.h_p50 = percentile(hs_in, 0.5);
  r.hs_mean = sum_hs / n;
  r.hs_p5 = percentile(hs_sender, 0.05);
  r.degree_mean = r.hs_mean / log2n;
  r.hmin_mean = sum_hmin / n;
  r.link_rate = sum_link / n;
  r.surprisal_mean = finite_sur ? sum_sur / static_cast<double>(finite_sur) : 0;
  r.pool_mean = sum_pool / n;
  r.h_size_mean = sum_hsize / n;
  r.h_size160_mean = sum_hsize160 / n;
  return r;
}

double captured_size_mi(const Trace& trace, const std::vector<MessageFacts>& facts,
                        double window_begin, double window_end) {
  std::map<std::pair<uint32_t, uint32_t>, double> joint;
  std::map<uint32_t, double> px, py;
  double total = 0;
  for (const OutputEvent& o : trace.outputs) {
    if (o.msg < 0 || o.t < window_begin || o.t >= window_end) continue;
    const uint32_t x = facts[static_cast<std::size_t>(o.msg)].envelope_size;
    joint[{x, o.frame_size}] += 1;
    px[x] += 1;
    py[o.frame_size] += 1;
    total += 1;
  }
  double mi = 0;
  for (const auto& [k, c] : joint) {
    const double pxy = c / total;
    mi += pxy * std::log2(pxy / ((px[k.first] / total) * (py[k.second] / total)));
  }
  return std::max(0.0, mi);
}

double size_entropy(const Trace& trace, const std::vector<MessageFacts>& facts, double begin,
                    double end, std::size_t bucket) {
  std::map<uint32_t, double> counts;
  double total = 0;
  for (const InputEvent& in : trace.inputs) {
    if (in.t < begin || in.t >= end) continue;
    const uint32_t s = facts[in.msg].envelope_size;
    counts[bucket > 1 ? static_cast<uint32_t>((s + bucket - 1) / bucket) : s] += 1;
    total += 1;
  }
  double h = 0;
  for (const auto& [k, c] : counts) h -= (c / total) * std::log2(c / total);
  return h;
}

SdaResult statistical_disclosure(const Trace& trace, const std::vector<MessageFacts>& facts,
                                 const SdaParams& p) {
  struct Round {
    std::size_t alice = 0;
    std::vector<uint16_t> delivered;
    std::size_t real_out = 0;
  };
  std::vector<Round> rounds;
  const auto& in = trace.inputs;
  const auto& out = trace.outputs;
  auto add_outputs = [&](Round& r, std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      if (out[j].msg < 0) continue;
      ++r.real_out;
      for (uint16_t x : facts[static_cast<std::size_t>(out[j].msg)].recipients) r.delivered.push_back(x);
    }
  };
  if (p.burst_gap > 0) {
    std::size_t next_in = 0;
    for (const auto& [b, e] : bursts(out, p.burst_gap)) {
      Round r;
      const double cutoff = out[b].t;
      while (next_in < in.size() && in[next_in].t < cutoff) {
        if (facts[in[next_in].msg].sender == 0) ++r.alice;
        ++next_in;
      }
      add_outputs(r, b, e);
      if (cutoff >= p.begin && cutoff < p.end && r.real_out > 0) rounds.push_back(std::move(r));
    }
  } else {
    const double w = std::max(1e-3, p.window);
    std::size_t i = 0, j = 0;
    for (double t = p.begin; t + w <= p.end; t += w) {
      Round r;
      while (i < in.size() && in[i].t < t) ++i;
      while (i < in.size() && in[i].t < t + w) {
        if (facts[in[i].msg].sender == 0) ++r.alice;
        ++i;
      }
      while (j < out.size() && out[j].t < t + p.shift) ++j;
      const std::size_t b = j;
      while (j < out.size() && out[j].t < t + w + p.shift) ++j;
      add_outputs(r, b, j);
      rounds.push_back(std::move(r));
    }
  }

  SdaResult res;
  res.rounds = rounds.size();
  const std::size_t m_rec = std::max<std::size_t>(p.recipients, 1);
  const std::size_t m = p.contacts.size();
  std::vector<double> seen(m_rec, 0), alice_obs(m_rec, 0);
  double seen_total = 0, outputs_total = 0, background = 0, deliveries_total = 0;
  std::vector<uint16_t> truth = p.contacts;
  std::sort(truth.begin(), truth.end());
  long last_wrong = -1;
  long alice_round = 0;
  std::vector<std::size_t> msgs_at;
  std::vector<std::size_t> order(m_rec);
  for (const Round& r : rounds) {
    for (uint16_t x : r.delivered) {
      if (x < m_rec) seen[x] += 1;
    }
    seen_total += static_cast<double>(r.delivered.size());
    outputs_total += static_cast<double>(r.real_out);
    deliveries_total += static_cast<double>(r.delivered.size());
    if (r.alice == 0 || m == 0) continue;
    ++alice_round;
    res.alice_msgs += r.alice;
    msgs_at.push_back(res.alice_msgs);
    for (uint16_t x : r.delivered) {
      if (x < m_rec) alice_obs[x] += 1;
    }
    // Deliveries per message so far, to take Alice's expected share out of the round.
    const double kappa = outputs_total > 0 ? seen_total / outputs_total : 1.0;
    background += std::max(0.0, static_cast<double>(r.delivered.size()) - kappa * static_cast<double>(r.alice));
    std::iota(order.begin(), order.end(), 0);
    auto score = [&](std::size_t x) {
      const double u = seen_total > 0 ? seen[x] / seen_total : 1.0 / static_cast<double>(m_rec);
      return alice_obs[x] - background * u;
    };
    std::partial_sort(order.begin(), order.begin() + static_cast<long>(std::min(m, m_rec)), order.end(),
                      [&](std::size_t a, std::size_t b) { return score(a) > score(b); });
    std::vector<uint16_t> guess;
    for (std::size_t k = 0; k < std::min(m, m_rec); ++k) guess.push_back(static_cast<uint16_t>(order[k]));
    std::sort(guess.begin(), guess.end());
    if (guess != truth) {
      last_wrong = alice_round - 1;
    } else if (res.first_correct < 0) {
      res.first_correct = alice_round;
    }
  }
  res.alice_rounds = static_cast<std::size_t>(alice_round);
  if (alice_round > 0 && last_wrong < alice_round - 1) {
    res.rounds_needed = last_wrong + 2;
    res.msgs_needed = static_cast<long>(msgs_at[static_cast<std::size_t>(last_wrong + 1)]);
  }
  res.mean_round = rounds.empty() ? 0 : deliveries_total / static_cast<double>(rounds.size());
  if (m > 0 && res.mean_round > 1) {
    const double nn = static_cast<double>(m_rec), b = res.mean_round, mm = static_cast<double>(m);
    const double a = std::sqrt((nn - 1) / (nn * nn) * (b - 1));
    const double c = std::sqrt((nn - 1) / (nn * nn) * (b - 1) + (mm - 1) / (mm * mm));
    res.formula_rounds = std::pow(mm * 2.0 * (a + c), 2);
  }
  return res;
}

double analytic_entropy(const std::string& strategy, double rate, double cover_rate,
                        double mean_delay_s, double threshold, double interval_s, double p) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (rate <= 0) return nan;
  if (strategy == "none") return 0;
  if (strategy == "poisson") {
    const double x = M_E * rate * mean_delay_s;
    return x > 1 ? std::log2(x) : nan;
  }
  if (strategy == "threshold") {
    const double k = threshold * rate / (rate + cover_rate);
    return k >= 1 ? std::log2(k) : nan;
  }
  if (strategy == "timed" || (strategy == "binomial" && p >= 1)) {
    const double mu = rate * interval_s;
    const double sd = std::sqrt(mu);
    const long lo = std::max(0L, static_cast<long>(mu - 12 * sd - 12));
    const long hi = static_cast<long>(mu + 12 * sd + 12);
    double h = 0;
    for (long k = lo; k <= hi; ++k) {
      const double kk = static_cast<double>(k);
      const double lp = kk * std::log(mu) - mu - std::lgamma(kk + 1);
      h += std::exp(lp) * std::log2(1 + kk);
    }
    return h;
  }
  if (strategy == "binomial") {
    const double k = rate * interval_s;
    if (k < 1 || p <= 0) return nan;
    const double h2 = -(p * std::log2(p) + (1 - p) * std::log2(1 - p));
    return std::log2(k) + h2 / p;
  }
  return nan;
}

}  // namespace veil::bench::privacy

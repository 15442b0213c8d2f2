// Mix strategies: none, threshold, timed, threshold-or-timed, binomial pool and Poisson (exponential) mix.
#include "proxy/relay/core/mix.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace veil::relay {
namespace {

using Strategy = MixConfig::Strategy;

constexpr Strategy kAllStrategies[] = {Strategy::none,     Strategy::threshold,
                                       Strategy::timed,    Strategy::threshold_or_timed,
                                       Strategy::binomial, Strategy::poisson};

// −mean·ln(1−u) for u ∈ [0, 1), rounded to whole microseconds, at most kNever − 1.
Micros exp_from_unit(Micros mean, double u) {
  const double d = -static_cast<double>(mean) * std::log1p(-u);
  if (!(d < 9.0e18)) return kNever - 1;
  return static_cast<Micros>(std::llround(d));
}

// now + d without passing kNever − 1 (kNever itself means "no deadline").
Micros saturating_add(Micros now, Micros d) { return d >= kNever - 1 - now ? kNever - 1 : now + d; }

double unit_from_bits(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

// Random words drawn from the injected Rng 64 at a time: one Rng call (one ChaCha block run or
// one getrandom) per 64 draws instead of per draw, which dominated the per-packet cost.
class RandomPool {
 public:
  explicit RandomPool(Rng& rng) : rng_(rng) {}
  uint64_t word() {
    if (pos_ == buf_.size()) {
      rng_.fill({reinterpret_cast<uint8_t*>(buf_.data()), sizeof buf_});
      pos_ = 0;
    }
    return buf_[pos_++];
  }
  // Uniform in [0, bound), no modulo bias (same rejection rule as Rng::uniform).
  uint64_t uniform(uint64_t bound) {
    if (bound <= 1) return 0;
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
      const uint64_t x = word();
      if (x < limit) return x % bound;
    }
  }
  double unit() { return unit_from_bits(word()); }
  // Fisher–Yates: a uniformly random permutation.
  void shuffle(std::vector<uint64_t>& ids) {
    for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[uniform(i)]);
  }

 private:
  Rng& rng_;
  std::array<uint64_t, 64> buf_{};
  std::size_t pos_ = 64;
};

// The number of successes in n Bernoulli(q) trials, q ∈ (0, 1], by geometric skips:
// about n·q + 1 draws instead of n.
std::size_t binomial_successes(std::size_t n, double q, RandomPool& rng) {
  if (q >= 1.0) return n;
  const double log_fail = std::log1p(-q);  // < 0
  std::size_t count = 0;
  double pos = 0;  // index of the next trial
  const double limit = static_cast<double>(n);
  for (;;) {
    const double u = 1.0 - rng.unit();                      // (0, 1]
    pos += std::floor(std::log(u) / log_fail);              // failures before the next success
    if (pos >= limit) return count;
    ++count;
    pos += 1;
  }
}

// Bin(n, p) drawn from whichever of p and 1 − p is smaller (fewer random draws).
std::size_t binomial(std::size_t n, double p, RandomPool& rng) {
  if (p >= 1.0) return n;
  if (p > 0.5) return n - binomial_successes(n, 1.0 - p, rng);
  return binomial_successes(n, p, rng);
}

// A fixed schedule phase + k·interval; `next` is always a point of it.
class Ticker {
 public:
  explicit Ticker(Micros interval) : interval_(interval) {}
  bool started() const { return started_; }
  Micros next() const { return next_; }
  void start(Micros now) {
    started_ = true;
    next_ = saturating_add(now, interval_);
  }
  // Continues the schedule through `point`, at its first point ≥ now.
  void resume(Micros point, Micros now) {
    started_ = true;
    next_ = point;
    to_at_or_after(now);
    // A point far ahead (the wall clock was set back between runs): its phase, within a period.
    if (next_ - now > interval_) next_ -= ((next_ - now - 1) / interval_) * interval_;
  }
  // Moves `next` to the first schedule point ≥ t.
  void to_at_or_after(Micros t) {
    if (next_ < t) next_ += ((t - next_ + interval_ - 1) / interval_) * interval_;
  }
  // Moves `next` to the first schedule point > t.
  void to_after(Micros t) {
    if (next_ <= t) next_ += ((t - next_) / interval_ + 1) * interval_;
  }

 private:
  Micros interval_;
  Micros next_ = kNever;
  bool started_ = false;
};

// Takes the whole pool in uniformly random order.
std::vector<uint64_t> take_all(std::vector<uint64_t>& pool, RandomPool& rng) {
  std::vector<uint64_t> out;
  out.swap(pool);
  rng.shuffle(out);
  return out;
}

// none: everything leaves at the first release().
class NoneMix final : public Mix {
 public:
  explicit NoneMix(Rng& rng) : rng_(rng) {}
  Micros add(uint64_t id, Micros now) override {
    if (pool_.empty()) oldest_ = now;
    pool_.push_back(id);
    return kNever;
  }
  void restore(uint64_t id, Micros, Micros now) override { add(id, now); }
  std::vector<uint64_t> release(Micros) override { return take_all(pool_, rng_); }
  Micros next_deadline() const override { return pool_.empty() ? kNever : oldest_; }
  std::size_t size() const override { return pool_.size(); }
  std::vector<uint64_t> drain() override { return take_all(pool_, rng_); }

 private:
  RandomPool rng_;
  std::vector<uint64_t> pool_;
  Micros oldest_ = kNever;
};

// threshold: flush all once `threshold` are pooled.
class ThresholdMix final : public Mix {
 public:
  ThresholdMix(std::size_t threshold, Rng& rng) : threshold_(threshold), rng_(rng) {}
  Micros add(uint64_t id, Micros now) override {
    pool_.push_back(id);
    if (pool_.size() == threshold_) full_at_ = now;
    return kNever;
  }
  void restore(uint64_t id, Micros, Micros now) override { add(id, now); }
  std::vector<uint64_t> release(Micros) override {
    if (pool_.size() < threshold_) return {};
    return take_all(pool_, rng_);
  }
  Micros next_deadline() const override { return pool_.size() >= threshold_ ? full_at_ : kNever; }
  std::size_t size() const override { return pool_.size(); }
  std::vector<uint64_t> drain() override { return take_all(pool_, rng_); }

 private:
  std::size_t threshold_;
  RandomPool rng_;
  std::vector<uint64_t> pool_;
  Micros full_at_ = kNever;
};

// threshold_or_timed: flush all at `threshold` pooled or when the timer expires.
class ThresholdOrTimedMix final : public Mix {
 public:
  ThresholdOrTimedMix(std::size_t threshold, Micros interval, Rng& rng)
      : threshold_(threshold), ticker_(interval), rng_(rng) {}
  Micros add(uint64_t id, Micros now) override {
    if (!ticker_.started()) {
      ticker_.start(now);
    } else if (pool_.empty()) {
      ticker_.to_at_or_after(now);  // periods that passed with an empty pool flushed nothing
    }
    push(id, now);
    return kNever;
  }
  void restore(uint64_t id, Micros, Micros now) override {
    if (!ticker_.started()) ticker_.start(now);
    push(id, now);
  }
  Micros next_tick() const override { return ticker_.started() ? ticker_.next() : kNever; }
  void resume_ticks(Micros tick, Micros now) override { ticker_.resume(tick, now); }
  std::vector<uint64_t> release(Micros now) override {
    if (ticker_.started() && now >= ticker_.next()) {  // timer flush: keep the period's phase
      ticker_.to_after(now);
      return take_all(pool_, rng_);
    }
    if (pool_.size() >= threshold_) {  // threshold flush: the timer restarts now
      ticker_.start(now);
      return take_all(pool_, rng_);
    }
    return {};
  }
  Micros next_deadline() const override {
    if (pool_.empty()) return kNever;
    return pool_.size() >= threshold_ ? std::min(full_at_, ticker_.next()) : ticker_.next();
  }
  std::size_t size() const override { return pool_.size(); }
  std::vector<uint64_t> drain() override { return take_all(pool_, rng_); }

 private:
  void push(uint64_t id, Micros now) {
    pool_.push_back(id);
    if (pool_.size() == threshold_) full_at_ = now;
  }

  std::size_t threshold_;
  Ticker ticker_;
  RandomPool rng_;
  std::vector<uint64_t> pool_;
  Micros full_at_ = kNever;
};

// binomial (and timed = binomial with p = 1, min_pool = 0): one round per schedule tick.
class BinomialMix final : public Mix {
 public:
  BinomialMix(Micros interval, double p, std::size_t min_pool, Rng& rng)
      : ticker_(interval), p_(p), min_pool_(min_pool), rng_(rng) {}
  Micros add(uint64_t id, Micros now) override {
    if (!ticker_.started()) {
      ticker_.start(now);
    } else if (pool_.size() <= min_pool_) {
      ticker_.to_at_or_after(now);  // ticks that passed while nothing could leave
    }
    pool_.push_back(id);
    return kNever;
  }
  void restore(uint64_t id, Micros, Micros now) override {
    if (!ticker_.started()) ticker_.start(now);
    pool_.push_back(id);
  }
  Micros next_tick() const override { return ticker_.started() ? ticker_.next() : kNever; }
  void resume_ticks(Micros tick, Micros now) override { ticker_.resume(tick, now); }
  std::vector<uint64_t> release(Micros now) override {
    if (!ticker_.started() || now < ticker_.next()) return {};
    ticker_.to_after(now);
    const std::size_t n = pool_.size();
    if (n <= min_pool_) return {};
    const std::size_t k = std::min(binomial(n, p_, rng_), n - min_pool_);
    // Partial Fisher–Yates from the back: the k taken form a uniformly random ordered sample.
    std::vector<uint64_t> out;
    out.reserve(k);
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t last = n - 1 - i;
      const std::size_t j = rng_.uniform(last + 1);
      std::swap(pool_[j], pool_[last]);
      out.push_back(pool_[last]);
    }
    pool_.resize(n - k);
    return out;
  }
  Micros next_deadline() const override {
    return pool_.size() > min_pool_ ? ticker_.next() : kNever;
  }
  std::size_t size() const override { return pool_.size(); }
  std::vector<uint64_t> drain() override { return take_all(pool_, rng_); }

 private:
  Ticker ticker_;
  double p_;
  std::size_t min_pool_;
  RandomPool rng_;
  std::vector<uint64_t> pool_;
};

// poisson: a min-heap on (due time, random tie-break).
class PoissonMix final : public Mix {
 public:
  PoissonMix(Micros mean_delay, Rng& rng) : mean_(mean_delay), rng_(rng) {}
  Micros add(uint64_t id, Micros now) override {
    const Micros delay = mean_ == 0 ? 0 : exp_from_unit(mean_, rng_.unit());
    const Micros due = saturating_add(now, delay);
    push(id, due);
    return due;
  }
  void restore(uint64_t id, Micros due, Micros now) override {
    if (due == kNever) {
      add(id, now);
    } else {
      push(id, std::max(due, now));
    }
  }
  std::vector<uint64_t> release(Micros now) override {
    std::vector<uint64_t> out;
    while (!heap_.empty() && heap_.front().due <= now) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      out.push_back(heap_.back().id);
      heap_.pop_back();
    }
    return out;
  }
  Micros next_deadline() const override { return heap_.empty() ? kNever : heap_.front().due; }
  std::size_t size() const override { return heap_.size(); }
  std::vector<uint64_t> drain() override {
    std::vector<uint64_t> out;
    out.reserve(heap_.size());
    for (const Entry& e : heap_) out.push_back(e.id);
    heap_.clear();
    rng_.shuffle(out);
    return out;
  }

 private:
  struct Entry {
    Micros due;
    uint64_t tie;
    uint64_t id;
  };
  struct Later {  // a function object, so that the heap algorithms inline the comparison
    bool operator()(const Entry& a, const Entry& b) const {
      return a.due != b.due ? a.due > b.due : a.tie > b.tie;
    }
  };
  void push(uint64_t id, Micros due) {
    heap_.push_back(Entry{due, rng_.word(), id});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  Micros mean_;
  RandomPool rng_;
  std::vector<Entry> heap_;
};

}  // namespace

const char* strategy_name(MixConfig::Strategy s) noexcept {
  switch (s) {
    case Strategy::none: return "none";
    case Strategy::threshold: return "threshold";
    case Strategy::timed: return "timed";
    case Strategy::threshold_or_timed: return "threshold_or_timed";
    case Strategy::binomial: return "binomial";
    case Strategy::poisson: return "poisson";
  }
  return "unknown";
}

Result<MixConfig::Strategy> parse_strategy(std::string_view name) {
  for (Strategy s : kAllStrategies) {
    if (name == strategy_name(s)) return s;
  }
  return Error::invalid_argument;
}

void shuffle_ids(std::vector<uint64_t>& ids, Rng& rng) {
  RandomPool pool(rng);
  pool.shuffle(ids);
}

Micros exponential_delay(Micros mean, Rng& rng) {
  if (mean <= 0) return 0;
  return exp_from_unit(mean, rng.unit());
}

std::vector<std::string> validate_mix(const MixConfig& c) {
  std::vector<std::string> problems;
  const std::string name = strategy_name(c.strategy);
  if (!parse_strategy(name)) {
    problems.push_back("strategy: unknown strategy");
    return problems;
  }
  const auto require = [&](bool ok, const char* key, const char* rule) {
    if (!ok) problems.push_back(std::string(key) + ": must be " + rule + " for strategy " + name);
  };
  const bool threshold_ok = c.threshold >= 1;
  const bool interval_ok = c.interval > 0;
  const bool p_ok = c.probability > 0.0 && c.probability <= 1.0;  // false for NaN
  switch (c.strategy) {
    case Strategy::none:
      break;
    case Strategy::threshold:
      require(threshold_ok, "threshold", "at least 1");
      break;
    case Strategy::timed:
      require(interval_ok, "interval_ms", "positive");
      break;
    case Strategy::threshold_or_timed:
      require(threshold_ok, "threshold", "at least 1");
      require(interval_ok, "interval_ms", "positive");
      break;
    case Strategy::binomial:
      require(interval_ok, "interval_ms", "positive");
      require(p_ok, "probability", "within (0, 1]");
      break;
    case Strategy::poisson:
      require(c.mean_delay >= 0, "mean_delay_ms", "at least 0");
      break;
  }
  return problems;
}

Result<std::unique_ptr<Mix>> make_mix(const MixConfig& c, Rng& rng) {
  if (!validate_mix(c).empty()) return Error::invalid_argument;
  switch (c.strategy) {
    case Strategy::none:
      return std::unique_ptr<Mix>(new NoneMix(rng));
    case Strategy::threshold:
      return std::unique_ptr<Mix>(new ThresholdMix(c.threshold, rng));
    case Strategy::timed:
      return std::unique_ptr<Mix>(new BinomialMix(c.interval, 1.0, 0, rng));
    case Strategy::threshold_or_timed:
      return std::unique_ptr<Mix>(new ThresholdOrTimedMix(c.threshold, c.interval, rng));
    case Strategy::binomial:
      return std::unique_ptr<Mix>(new BinomialMix(c.interval, c.probability, c.min_pool, rng));
    case Strategy::poisson:
      return std::unique_ptr<Mix>(new PoissonMix(c.mean_delay, rng));
  }
  return Error::invalid_argument;
}

}  // namespace veil::relay

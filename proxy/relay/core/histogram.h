// Counts of values in fixed power-of-two buckets, for metrics: cheap to observe, mergeable, and
// exported as a Prometheus histogram (exposition.h) or as a quantile summary (metrics JSON).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace veil::relay {

class Histogram {
 public:
  // Bucket b holds values v with floor(v) of bit width b: b = 0 holds v < 1, and b ≥ 1 holds
  // 2^(b-1) ≤ v < 2^b (the last bucket also holds everything above). Negative values count as 0.
  static constexpr std::size_t kBuckets = 64;

  // Inline: the journal store records into its histogram without linking the relay core.
  void observe(double value) {
    if (value < 0) value = 0;
    const auto v = static_cast<uint64_t>(value);
    const int b = v == 0 ? 0 : std::min(63, 64 - std::countl_zero(v));
    ++buckets_[static_cast<std::size_t>(b)];
    ++count_;
    sum_ += value;
    if (value > max_) max_ = value;
  }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  uint64_t bucket(std::size_t b) const { return b < kBuckets ? buckets_[b] : 0; }
  // The upper bound of the bucket holding the q-quantile (0 ≤ q ≤ 1), at most max(); 0 if empty.
  double quantile(double q) const;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  double max_ = 0;
};

}  // namespace veil::relay

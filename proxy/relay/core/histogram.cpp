// Power-of-two histogram buckets and quantile estimates.
#include "proxy/relay/core/histogram.h"

#include <algorithm>
#include <cmath>

namespace veil::relay {

double Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto target = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= target && buckets_[b] != 0) {
      const double upper = b == 0 ? 0.0 : std::ldexp(1.0, static_cast<int>(b)) - 1;
      return std::min(upper, max_);
    }
  }
  return max_;
}

}  // namespace veil::relay

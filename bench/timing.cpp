// Median-of-repeats timing with the same method as the libsignal node anchor.
#include "bench/timing.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace veil::bench {

bool selected(const std::string& only, const std::string& op) {
  return only.empty() || op.rfind(only, 0) == 0;
}

Measurement measure(const TimingPlan& plan, const std::function<void()>& op) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < plan.warmup; ++i) op();
  std::vector<double> rates;
  long total = 0;
  for (int r = 0; r < plan.repeats; ++r) {
    long n = 0;
    const auto start = clock::now();
    double elapsed = 0;
    do {
      op();
      ++n;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < plan.min_seconds);
    rates.push_back(static_cast<double>(n) / elapsed);
    total += n;
  }
  std::sort(rates.begin(), rates.end());
  Measurement m;
  m.ops_per_s = rates[rates.size() / 2];
  m.us_per_op = 1e6 / m.ops_per_s;
  m.reps = total;
  m.slowest = rates.front();
  m.fastest = rates.back();
  return m;
}

void report(const std::string& op, const Measurement& m, const std::string& note) {
  std::printf(
      "{\"impl\":\"veil\",\"op\":\"%s\",\"ops_per_s\":%.3f,\"us_per_op\":%.3f,\"reps\":%ld,"
      "\"note\":\"%s; repeats %.1f-%.1f ops/s\"}\n",
      op.c_str(), m.ops_per_s, m.us_per_op, m.reps, note.c_str(), m.slowest, m.fastest);
  std::fflush(stdout);
}

}  // namespace veil::bench

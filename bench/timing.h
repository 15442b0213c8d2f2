// Benchmark timing: warm-up, repeats of a minimum duration, median ops/s, one JSON line each.
#pragma once

#include <functional>
#include <string>

namespace veil::bench {

struct TimingPlan {
  int warmup = 2;
  int repeats = 5;
  double min_seconds = 1.0;
};

struct Measurement {
  double ops_per_s = 0;
  double us_per_op = 0;
  long reps = 0;
  double slowest = 0;
  double fastest = 0;
};

// True if `op` is selected by the --only prefix (empty selects all).
bool selected(const std::string& only, const std::string& op);

// Runs `op` as planned; returns the median repeat.
Measurement measure(const TimingPlan& plan, const std::function<void()>& op);

// Prints {"impl":"veil","op":name,"ops_per_s":..,"us_per_op":..,"reps":..,"note":note}.
void report(const std::string& op, const Measurement& m, const std::string& note);

}  // namespace veil::bench

// Poisson cover schedules and loop-cover tracking (loss ratio, latency quantiles, n-1 alarm).
#include "proxy/relay/core/cover.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace veil::relay {

PoissonSchedule::PoissonSchedule(double rate_per_s, Rng& rng, Micros start)
    : mean_gap_us_(rate_per_s > 0 && std::isfinite(rate_per_s) ? 1e6 / rate_per_s : 0),
      rng_(&rng),
      start_(start) {
  draw();
}

Result<PoissonSchedule> PoissonSchedule::make(double rate_per_s, Rng& rng, Micros start) {
  if (!(rate_per_s >= 0) || !std::isfinite(rate_per_s)) return Error::invalid_argument;
  return PoissonSchedule(rate_per_s, rng, start);
}

void PoissonSchedule::advance() { draw(); }

void PoissonSchedule::draw() {
  if (mean_gap_us_ == 0) {
    next_ = kNever;
    return;
  }
  offset_us_ += -mean_gap_us_ * std::log1p(-rng_->unit());
  const double at = static_cast<double>(start_) + offset_us_;
  next_ = at < 9.0e18 ? static_cast<Micros>(std::llround(at)) : kNever;
}

LoopTracker::LoopTracker(Micros timeout, Micros window) : timeout_(timeout), window_(window) {}

void LoopTracker::record(Micros at, Event::Kind kind, Micros latency) {
  events_.push_back(Event{at, kind, latency});
  switch (kind) {
    case Event::Kind::sent: ++sent_; break;
    case Event::Kind::returned: ++returned_; break;
    case Event::Kind::lost: ++lost_; break;
  }
}

bool LoopTracker::sent(uint64_t id, Micros now) {
  expire(now);
  if (!outstanding_.emplace(id, now).second) return false;
  by_age_.emplace_back(now, id);
  record(now, Event::Kind::sent, 0);
  return true;
}

std::optional<Micros> LoopTracker::returned(uint64_t id, Micros now) {
  expire(now);
  auto it = outstanding_.find(id);
  if (it == outstanding_.end()) {
    ++unmatched_;
    return std::nullopt;
  }
  const Micros latency = now - it->second;
  outstanding_.erase(it);
  record(now, Event::Kind::returned, latency);
  return latency;
}

void LoopTracker::expire(Micros now) {
  while (!by_age_.empty() && by_age_.front().first <= now - timeout_) {
    const auto [sent_at, id] = by_age_.front();
    by_age_.pop_front();
    auto it = outstanding_.find(id);
    if (it == outstanding_.end() || it->second != sent_at) continue;  // returned meanwhile
    outstanding_.erase(it);
    record(sent_at + timeout_, Event::Kind::lost, 0);
    ++lost_total_;
  }
  while (!events_.empty() && events_.front().at <= now - window_) {
    switch (events_.front().kind) {
      case Event::Kind::sent: --sent_; break;
      case Event::Kind::returned: --returned_; break;
      case Event::Kind::lost: --lost_; break;
    }
    events_.pop_front();
  }
}

LoopStats LoopTracker::stats() const {
  LoopStats s;
  s.sent = sent_;
  s.returned = returned_;
  s.lost = lost_;
  s.outstanding = outstanding_.size();
  s.unmatched = unmatched_;
  s.lost_total = lost_total_;
  if (returned_ + lost_ > 0) {
    s.loss_ratio = static_cast<double>(lost_) / static_cast<double>(returned_ + lost_);
  }
  std::vector<Micros> latencies;
  latencies.reserve(returned_);
  for (const Event& e : events_) {
    if (e.kind == Event::Kind::returned) latencies.push_back(e.latency);
  }
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    // Nearest rank: the ceil(q·m)-th smallest.
    const auto rank = [&](std::size_t percent) {
      const std::size_t m = latencies.size();
      const std::size_t r = (percent * m + 99) / 100;
      return latencies[std::max<std::size_t>(r, 1) - 1];
    };
    s.latency_p50 = rank(50);
    s.latency_p99 = rank(99);
  }
  return s;
}

bool LoopTracker::alarm(double loss_threshold, Micros latency_threshold) const {
  if (returned_ + lost_ == 0) return false;
  const LoopStats s = stats();
  return s.loss_ratio > loss_threshold || s.latency_p99 > latency_threshold;
}

}  // namespace veil::relay

// ManualClock: timers ordered by (deadline, arming order), fired as the clock is moved.
#include "base/clock.h"

#include "base/check.h"

namespace veil {

class ManualClock::ManualTimer final : public Timer {
 public:
  ManualTimer(ManualClock* clock, std::function<void()> fire) : clock_(clock), fire_(std::move(fire)) {}
  ~ManualTimer() override { cancel(); }
  void arm_at(Micros deadline) override {
    cancel();
    if (clock_ == nullptr) return;
    key_ = {deadline, clock_->next_order_++};
    clock_->due_.emplace(key_, this);
    armed_ = true;
  }
  void cancel() override {
    if (!armed_) return;
    armed_ = false;
    auto range = clock_->due_.equal_range(key_);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == this) {
        clock_->due_.erase(it);
        break;
      }
    }
  }
  bool armed() const override { return armed_; }
  void fire() {
    armed_ = false;
    fire_();
  }
  void detach() {
    armed_ = false;
    clock_ = nullptr;
  }

 private:
  ManualClock* clock_;
  std::function<void()> fire_;
  std::pair<Micros, uint64_t> key_{};
  bool armed_ = false;
};

ManualClock::~ManualClock() {
  for (auto& [key, t] : due_) t->detach();
}

std::unique_ptr<Timer> ManualClock::timer(std::function<void()> fire) {
  return std::make_unique<ManualTimer>(this, std::move(fire));
}

Micros ManualClock::next_deadline() const { return due_.empty() ? kNever : due_.begin()->first.first; }

void ManualClock::set(Micros t, const std::function<void()>& between) {
  while (!due_.empty() && due_.begin()->first.first <= t) {
    auto it = due_.begin();
    ManualTimer* timer = it->second;
    if (it->first.first > now_) now_ = it->first.first;
    due_.erase(it);
    timer->fire();
    if (between) between();
  }
  if (t > now_) now_ = t;
}

}  // namespace veil

// UvClock's timers: one uv_timer_t each, closed (asynchronously) when the Timer is destroyed.
#include "proxy/relay/uv/uv_clock.h"

#include <chrono>

#include "base/check.h"

namespace veil::relay {
namespace {

class UvTimer final : public Timer {
 public:
  UvTimer(uv_loop_t* loop, const Clock& clock, std::function<void()> fire)
      : clock_(clock), state_(new State{{}, std::move(fire)}) {
    VEIL_CHECK(uv_timer_init(loop, &state_->handle) == 0, "uv_timer_init");
    state_->handle.data = state_;
  }
  ~UvTimer() override {
    // The handle outlives this object until libuv's close callback; the state goes with it.
    state_->fire = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&state_->handle),
             [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
  }
  void arm_at(Micros deadline) override {
    if (armed() && deadline == armed_for_) return;
    armed_for_ = deadline;
    const Micros now = clock_.now();
    const uint64_t delay_ms =
        deadline <= now ? 0 : static_cast<uint64_t>((deadline - now + 999) / 1000);
    VEIL_CHECK(uv_timer_start(&state_->handle, on_fire, delay_ms, 0) == 0, "uv_timer_start");
  }
  void cancel() override {
    armed_for_ = kNever;
    (void)uv_timer_stop(&state_->handle);  // always 0
  }
  bool armed() const override {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(&state_->handle)) != 0;
  }

 private:
  struct State {
    uv_timer_t handle;
    std::function<void()> fire;
  };
  static void on_fire(uv_timer_t* t) {
    auto* s = static_cast<State*>(t->data);
    if (s->fire) s->fire();
  }
  const Clock& clock_;
  State* state_;
  Micros armed_for_ = kNever;
};

}  // namespace

int64_t UvClock::wall_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<Timer> UvClock::timer(std::function<void()> fire) {
  return std::make_unique<UvTimer>(loop_, *this, std::move(fire));
}

}  // namespace veil::relay

// Cross-thread job hand-off to the loop (uv_mailbox.h).
#include "proxy/relay/uv/uv_mailbox.h"

#include "base/check.h"

namespace veil::relay {

UvMailbox::UvMailbox(uv_loop_t* loop) : async_(new uv_async_t{}) {
  VEIL_CHECK(uv_async_init(loop, async_, &UvMailbox::on_async) == 0, "uv_async_init");
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
}

UvMailbox::~UvMailbox() { close(); }

bool UvMailbox::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    jobs_.push_back(std::move(job));
    // Under the lock: close() cannot have closed the handle meanwhile.
    uv_async_send(async_);
  }
  return true;
}

void UvMailbox::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  closed_ = true;
  jobs_.clear();
  async_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

void UvMailbox::on_async(uv_async_t* h) {
  auto* self = static_cast<UvMailbox*>(h->data);
  if (self == nullptr) return;  // closed
  std::deque<std::function<void()>> jobs;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    jobs.swap(self->jobs_);
  }
  for (auto& job : jobs) job();
}

}  // namespace veil::relay

// The production Executor: libuv's thread pool (uv_queue_work); completions on the loop thread.
#pragma once

#include <uv.h>

#include "base/executor.h"

namespace veil::relay {

class UvExecutor final : public Executor {
 public:
  explicit UvExecutor(uv_loop_t* loop) : loop_(loop) {}
  void post(std::function<void()> work, std::function<void()> done) override;

 private:
  uv_loop_t* loop_;
};

}  // namespace veil::relay

// Jobs handed to the libuv loop thread from any other thread (uv_async_t): the admin endpoint's
// requests. The mailbox does not keep the loop alive.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>

namespace veil::relay {

class UvMailbox {
 public:
  explicit UvMailbox(uv_loop_t* loop);  // on the loop thread
  ~UvMailbox();                         // closes the handle if close() was not called
  UvMailbox(const UvMailbox&) = delete;
  UvMailbox& operator=(const UvMailbox&) = delete;

  // Thread-safe: `job` runs on the loop thread soon, in posting order. False once closed (the job
  // is dropped).
  bool post(std::function<void()> job);
  // On the loop thread: jobs not yet run are dropped and later posts refused; the handle closes
  // with the loop's next turn.
  void close();

 private:
  static void on_async(uv_async_t* h);

  uv_async_t* async_;  // freed by its close callback, which may run after the mailbox is gone
  std::mutex mu_;
  std::deque<std::function<void()>> jobs_;
  bool closed_ = false;
};

}  // namespace veil::relay

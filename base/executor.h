// Injected worker execution: jobs run off the loop thread, their completions back on it.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>

namespace veil {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `work` on a worker thread, then `done` on the loop thread. Call from the loop thread.
  // `work` must touch no state the loop thread uses meanwhile; completions of different jobs may
  // come in any order. The executor and what `done` uses must outlive the job.
  virtual void post(std::function<void()> work, std::function<void()> done) = 0;
};

// An executor whose jobs run only when a test says so, so that completion order is chosen by the
// test: run_all() in posting order, or run_newest_first() to exercise out-of-order completions.
class ManualExecutor final : public Executor {
 public:
  void post(std::function<void()> work, std::function<void()> done) override {
    jobs_.push_back({std::move(work), std::move(done)});
  }
  std::size_t pending() const { return jobs_.size(); }
  // Runs every pending job (and any posted meanwhile), oldest first; returns how many ran.
  std::size_t run_all();
  // Runs the oldest pending job; false if there was none.
  bool run_one();
  // Runs the pending jobs newest first (jobs posted meanwhile wait); returns how many ran.
  std::size_t run_newest_first();

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  std::deque<Job> jobs_;
};

}  // namespace veil

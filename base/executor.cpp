// ManualExecutor: test-driven job completion in either order.
#include "base/executor.h"

#include <vector>

namespace veil {

std::size_t ManualExecutor::run_all() {
  std::size_t n = 0;
  while (!jobs_.empty()) {
    Job j = std::move(jobs_.front());
    jobs_.pop_front();
    j.work();
    j.done();
    ++n;
  }
  return n;
}

bool ManualExecutor::run_one() {
  if (jobs_.empty()) return false;
  Job j = std::move(jobs_.front());
  jobs_.pop_front();
  j.work();
  j.done();
  return true;
}

std::size_t ManualExecutor::run_newest_first() {
  std::vector<Job> batch(std::make_move_iterator(jobs_.begin()), std::make_move_iterator(jobs_.end()));
  jobs_.clear();
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    it->work();
    it->done();
  }
  return batch.size();
}

}  // namespace veil

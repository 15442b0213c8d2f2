// The ordered worker pipeline of one connection: the items of one read form a batch, batches run
// on the executor's workers, and complete on the loop thread strictly in the order they were read.
//
// Used by the submit stage (submissions → wrapped packets) and by link in (packet frames →
// unwrapped layers). At most kMaxInFlight batches are out at once; the owner pauses reading when
// full() and resumes after completions.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

#include "base/executor.h"

namespace veil::relay {

template <class Batch>
class OrderedBatches {
 public:
  static constexpr std::size_t kMaxInFlight = 8;

  // The batch being filled by the current read (created on first use).
  Batch& building() {
    if (!building_) building_ = std::make_unique<Entry>();
    return building_->batch;
  }
  bool has_building() const { return building_ != nullptr; }
  std::size_t in_flight() const { return in_flight_.size(); }
  bool full() const { return in_flight_.size() >= kMaxInFlight; }

  // Sends the building batch to `executor`. `work(batch)` runs on a worker. When a batch and all
  // batches dispatched before it have run, `finish(batch)` runs for each on the loop thread, in
  // dispatch order, then `after()` once. `keep` is held until then (the owner of this pipeline).
  void dispatch(Executor& executor, std::shared_ptr<void> keep,
                std::function<void(Batch&)> work, std::function<void(Batch&)> finish,
                std::function<void()> after) {
    if (!building_) return;
    Entry* e = building_.get();
    in_flight_.push_back(std::move(building_));
    executor.post([e, work = std::move(work)] { work(e->batch); },
                  [this, e, keep = std::move(keep), finish = std::move(finish),
                   after = std::move(after)] {
                    e->done = true;
                    while (!in_flight_.empty() && in_flight_.front()->done) {
                      std::unique_ptr<Entry> front = std::move(in_flight_.front());
                      in_flight_.pop_front();
                      finish(front->batch);
                    }
                    after();
                  });
  }

 private:
  struct Entry {
    Batch batch;
    bool done = false;
  };
  std::unique_ptr<Entry> building_;
  std::deque<std::unique_ptr<Entry>> in_flight_;
};

}  // namespace veil::relay

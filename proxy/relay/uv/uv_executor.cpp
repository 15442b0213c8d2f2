// UvExecutor: one heap request per job, freed in the completion callback.
#include "proxy/relay/uv/uv_executor.h"

#include <memory>

#include "base/check.h"

namespace veil::relay {
namespace {

struct Job {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void()> done;
};

}  // namespace

void UvExecutor::post(std::function<void()> work, std::function<void()> done) {
  auto* job = new Job{{}, std::move(work), std::move(done)};
  job->req.data = job;
  const int rc = uv_queue_work(
      loop_, &job->req, [](uv_work_t* r) { static_cast<Job*>(r->data)->work(); },
      [](uv_work_t* r, int) {
        std::unique_ptr<Job> j(static_cast<Job*>(r->data));
        j->done();
      });
  VEIL_CHECK(rc == 0, "uv_queue_work");
}

}  // namespace veil::relay

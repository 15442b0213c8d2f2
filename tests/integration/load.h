// Steady submit load for the crash suite: distinct numbered SSv1 messages from
// alpha's accounts to beta's, over relay-alpha's submit port at a bounded rate, on its own thread,
// reconnecting while relay-alpha is down. Every answer is kept by request id (= message number).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "harness.h"

namespace veil::it {

class Load {
 public:
  // Starts sending at once. `first` is the first message number.
  Load(Deployment& net, double per_second, uint64_t seed, std::size_t first = 0);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Stops sending, half-closes the current connection and waits (at most `answers`) for the
  // answers still due on it. Idempotent.
  void stop(Millis answers = Millis(5000));

  std::size_t first() const { return first_; }
  std::size_t sent() const;             // messages first..first+sent-1 were written (or tried)
  std::set<uint64_t> accepted() const;  // request ids answered ACCEPTED
  std::size_t accepted_count() const;
  std::map<std::string, std::size_t> rejected_by_reason() const;
  std::size_t unanswered() const;       // sent, never answered (their connection died)
  std::size_t connections() const;      // submit connections opened
  std::string error() const;            // what stopped the sender thread early, if anything

 private:
  struct Conn;
  void run(uint64_t seed);
  void retire(std::unique_ptr<Conn> c, Millis wait);

  Deployment& net_;
  const double per_second_;
  const std::size_t first_;
  std::atomic<bool> running_{true};
  Millis answers_wait_{5000};  // set by stop() before running_ turns false
  mutable std::mutex mu_;
  std::map<uint64_t, bool> answered_;  // id -> accepted
  std::map<std::string, std::size_t> reasons_;
  std::size_t sent_ = 0;
  std::size_t connections_ = 0;
  std::string error_;
  std::thread thread_;  // last: it uses the fields above
};

}  // namespace veil::it

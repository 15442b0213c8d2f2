// A stand-in messenger server: submits envelopes to its relay and receives deliveries from it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/sim/accept_loop.h"
#include "proxy/sim/socket.h"
#include "relay.pb.h"

namespace veil::sim {

// Accepts the relay's deliver connection(s); acknowledges every delivery after handing it to
// `on_delivery` (called from the server's threads, one call at a time).
class DeliverServer {
 public:
  using Handler = std::function<void(const veil::relay::Delivery&)>;
  DeliverServer(uint16_t port, Handler on_delivery);
  ~DeliverServer();
  DeliverServer(const DeliverServer&) = delete;
  DeliverServer& operator=(const DeliverServer&) = delete;
  uint16_t port() const { return loop_.port(); }
  // While true, deliveries are handed over but not acknowledged (to exercise retries).
  void withhold_acks(bool on) { withhold_ = on; }
  uint64_t frames() const { return frames_; }
  void stop();

 private:
  void serve(Socket& s);
  AcceptLoop loop_;
  Handler on_delivery_;
  std::mutex mu_;  // one on_delivery_ call at a time
  std::atomic<bool> withhold_{false};
  std::atomic<uint64_t> frames_{0};
};

// A pipelined submit connection: send() does not wait; answers arrive on a reader thread.
class SubmitClient {
 public:
  using AnswerHandler = std::function<void(const veil::relay::SubmitAnswer&)>;
  SubmitClient(uint16_t port, AnswerHandler on_answer);
  ~SubmitClient();
  SubmitClient(const SubmitClient&) = delete;
  SubmitClient& operator=(const SubmitClient&) = delete;
  bool send(const veil::relay::Submission& s);
  // Sends raw bytes (for malformed-input tests).
  bool send_raw(ByteView bytes) { return sock_.send_all(bytes); }
  uint64_t answers() const { return answers_; }
  // Waits until every submission sent so far has its answer (at most timeout_ms).
  void finish(int timeout_ms = 10000);

 private:
  Socket sock_;
  AnswerHandler on_answer_;
  std::thread reader_;
  std::atomic<uint64_t> answers_{0};
  std::atomic<uint64_t> sent_{0};
};

// Sends one submission and waits for its answer (a fresh connection each time).
veil::relay::SubmitAnswer submit_once(uint16_t port, const veil::relay::Submission& s);

}  // namespace veil::sim

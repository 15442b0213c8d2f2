// A loopback server's threads: one that accepts, one per connection; stop() ends and joins them all.
#pragma once

#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "proxy/sim/socket.h"

namespace veil::sim {

class AcceptLoop {
 public:
  // Called on the accepting thread for every connection; it calls spawn() for the work the
  // connection needs. Not called once stop() has begun.
  using OnAccept = std::function<void(Socket accepted)>;

  explicit AcceptLoop(uint16_t port = 0);
  ~AcceptLoop();  // stop()
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

  uint16_t port() const { return server_.port(); }
  // Starts accepting. Call once, after everything `on_accept` uses is constructed.
  void start(OnAccept on_accept);
  // Runs `work` (any callable, move-only ones too) on a thread of its own; stop() shuts down `fds`
  // to unblock it, then joins it. Called from `on_accept`.
  template <class Work>
  void spawn(std::vector<int> fds, Work&& work) {
    std::lock_guard<std::mutex> lock(mu_);
    register_fds(fds);
    threads_.emplace_back(std::forward<Work>(work));
  }
  // Closes the listening socket, shuts down every registered socket and joins every thread.
  // Idempotent; the owner calls it before its own members go away.
  void stop();

 private:
  void register_fds(const std::vector<int>& fds);  // with mu_ held
  ServerSocket server_;
  std::thread acceptor_;
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

}  // namespace veil::sim

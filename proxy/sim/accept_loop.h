// A loopback server's threads: one that accepts, one per connection; stop() ends and joins them all.
#pragma once

#include <functional>
#include <memory>
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
  // Runs `work` (any callable) on a thread of its own; called from `on_accept`. The loop keeps
  // `sockets` open until stop() has shut them down and joined every thread, so no descriptor is
  // closed (and its number handed to a new connection) while some work may still use it.
  template <class Work>
  void spawn(std::vector<std::shared_ptr<Socket>> sockets, Work&& work) {
    std::lock_guard<std::mutex> lock(mu_);
    keep(std::move(sockets));
    threads_.emplace_back(std::forward<Work>(work));
  }
  // Stops accepting, shuts down every kept socket, joins every thread, then closes the sockets.
  // Idempotent; the owner calls it before its own members go away, never from a spawned thread.
  void stop();

 private:
  void keep(std::vector<std::shared_ptr<Socket>> sockets);  // with mu_ held
  ServerSocket server_;
  std::thread acceptor_;
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Socket>> sockets_;
  std::vector<std::thread> threads_;
};

}  // namespace veil::sim

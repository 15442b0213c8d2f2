// Accepting thread, per-connection threads, and an orderly stop.
#include "proxy/sim/accept_loop.h"

#include <sys/socket.h>

namespace veil::sim {

AcceptLoop::AcceptLoop(uint16_t port) : server_(port) {}

AcceptLoop::~AcceptLoop() { stop(); }

void AcceptLoop::start(OnAccept on_accept) {
  acceptor_ = std::thread([this, on_accept = std::move(on_accept)] {
    while (auto s = server_.accept()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
      }
      on_accept(std::move(*s));
    }
  });
}

void AcceptLoop::register_fds(const std::vector<int>& fds) {
  if (stopping_) {
    for (int fd : fds) ::shutdown(fd, SHUT_RDWR);  // stop() has begun: end the work at once
  }
  fds_.insert(fds_.end(), fds.begin(), fds.end());
}

void AcceptLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  server_.close();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

}  // namespace veil::sim

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

void AcceptLoop::keep(std::vector<std::shared_ptr<Socket>> sockets) {
  for (auto& s : sockets) {
    if (stopping_) ::shutdown(s->fd(), SHUT_RDWR);  // stop() has begun: end the work at once
    sockets_.push_back(std::move(s));
  }
}

void AcceptLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  server_.stop_accepting();
  if (acceptor_.joinable()) acceptor_.join();
  server_.close();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : sockets_) ::shutdown(s->fd(), SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  sockets_.clear();  // closes them, now that nothing uses them
}

}  // namespace veil::sim

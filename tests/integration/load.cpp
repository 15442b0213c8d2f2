// Steady submit load with reconnects (see load.h).
#include "load.h"

#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace veil::it {

using sim::Clock;

struct Load::Conn {
  sim::Socket sock;
  std::thread reader;
  std::atomic<bool> dead{false};
};

Load::Load(Deployment& net, double per_second, uint64_t seed, std::size_t first)
    : net_(net), per_second_(per_second), first_(first) {
  thread_ = std::thread([this, seed] { run(seed); });
}

Load::~Load() { stop(Millis(1000)); }

void Load::run(uint64_t seed) {
  SeededRng rng(seed);  // the deployment's rng belongs to the test thread
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / per_second_));
  std::unique_ptr<Conn> conn;
  auto next = Clock::now();
  try {
    for (std::size_t n = first_; running_;) {
      if (conn && conn->dead) retire(std::move(conn), Millis(0));
      if (!conn) {
        auto c = std::make_unique<Conn>();
        try {
          c->sock = sim::Socket::connect_tcp(net_.submit_port());
        } catch (const std::runtime_error&) {  // relay-alpha is down (or draining)
          std::this_thread::sleep_for(Millis(10));
          continue;
        }
        Conn* raw = c.get();
        raw->reader = std::thread([this, raw] {
          while (auto f = raw->sock.recv_frame()) {
            relay::SubmitAnswer a;
            if (!a.ParseFromArray(f->data(), static_cast<int>(f->size()))) continue;
            const bool ok = a.status() == relay::SubmitAnswer::ACCEPTED;
            std::lock_guard<std::mutex> lock(mu_);
            answered_[a.request_id()] = ok;
            if (!ok) ++reasons_[a.reason()];
          }
          raw->dead = true;
        });
        conn = std::move(c);
        std::lock_guard<std::mutex> lock(mu_);
        ++connections_;
      }
      const auto sub = v1_submission(net_.alpha.accounts[n % net_.alpha.accounts.size()],
                                     net_.beta.accounts[n % net_.beta.accounts.size()], n, rng);
      // Message n is never sent twice: a failed write may still have reached the relay, and a
      // second, freshly sealed copy would be a second message with the same number.
      const bool written = conn->sock.send_frame(as_bytes(sub.SerializeAsString()));
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++sent_;
      }
      ++n;
      if (!written) retire(std::move(conn), Millis(0));
      next += period;
      const auto now = Clock::now();
      if (now - next > Millis(500)) next = now;  // fell behind (e.g. reconnecting): no burst
      std::this_thread::sleep_until(next);
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = e.what();
  }
  if (conn) retire(std::move(conn), answers_wait_);
}

// Ends a connection: half-closes it so that the relay answers what it read and closes, waits up
// to `wait` for that, then closes it for good.
void Load::retire(std::unique_ptr<Conn> c, Millis wait) {
  c->sock.shutdown_write();
  wait_until(wait, [&] { return c->dead.load(); }, Millis(5));
  ::shutdown(c->sock.fd(), SHUT_RDWR);
  if (c->reader.joinable()) c->reader.join();
}

void Load::stop(Millis answers) {
  answers_wait_ = answers;
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

std::size_t Load::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

std::set<uint64_t> Load::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<uint64_t> out;
  for (const auto& [id, ok] : answered_) {
    if (ok) out.insert(id);
  }
  return out;
}

std::size_t Load::accepted_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t k = 0;
  for (const auto& [id, ok] : answered_) k += ok ? 1 : 0;
  return k;
}

std::map<std::string, std::size_t> Load::rejected_by_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reasons_;
}

std::size_t Load::unanswered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_ - answered_.size();
}

std::size_t Load::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

std::string Load::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace veil::it

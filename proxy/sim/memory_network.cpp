// MemoryNetwork: in-memory stream pairs, listeners and dialers, driven by run() and the clock.
#include "proxy/sim/memory_network.h"

#include <algorithm>
#include <stdexcept>

namespace veil::sim {

// One end of an in-memory connection. Writes land in the other end's inbox at once; everything
// written since the last read arrives there as one read, delivered by a network task.
class MemoryStream final : public relay::Stream, public std::enable_shared_from_this<MemoryStream> {
 public:
  MemoryStream(MemoryNetwork& net, std::string endpoint, bool dialer)
      : net_(net), endpoint_(std::move(endpoint)), dialer_(dialer) {}

  static void pair(const std::shared_ptr<MemoryStream>& a, const std::shared_ptr<MemoryStream>& b) {
    a->peer_ = b;
    b->peer_ = a;
    a->self_ = a;
    b->self_ = b;
  }
  const std::string& endpoint() const { return endpoint_; }
  std::string source() const override { return source_; }
  void set_source(std::string s) { source_ = std::move(s); }

  void start(Handlers h) override {
    handlers_ = std::move(h);
    started_ = true;
    schedule();
  }
  void pause() override { paused_ = true; }
  void resume() override {
    if (!paused_) return;
    paused_ = false;
    schedule();
  }
  void write(std::span<const ByteView> pieces) override {
    if (closing_) return;
    Bytes chunk;
    for (ByteView p : pieces) append(chunk, p);
    if (chunk.empty()) return;
    if (net_.observer_) net_.observer_(endpoint_, dialer_, chunk);
    if (auto p = peer_.lock(); p && !p->closing_) {
      p->inbox_.push_back(std::move(chunk));
      p->schedule();
    }
  }
  void close() override {
    if (closing_) return;
    closing_ = true;
    if (auto p = peer_.lock()) {
      p->peer_closed_ = true;
      p->schedule();
    }
    auto self = shared_from_this();
    net_.post([self] { self->finish_close(); });
  }
  void close_when_flushed() override { close(); }  // writes are never pending
  void shutdown() {
    if (closing_ || shut_) return;
    shut_ = true;
    if (auto p = peer_.lock()) {
      p->peer_closed_ = true;
      p->schedule();
    }
  }
  bool closed() const override { return closing_; }
  // What the other side has not read yet (it paused, or never started reading).
  std::size_t pending_bytes() const override {
    std::size_t n = 0;
    if (auto p = peer_.lock()) {
      for (const Bytes& b : p->inbox_) n += b.size();
    }
    return n;
  }
  bool open() const { return !closing_; }

 private:
  std::string source_;
  void schedule() {
    if (scheduled_ || closing_) return;
    scheduled_ = true;
    std::weak_ptr<MemoryStream> weak = shared_from_this();
    net_.post([weak] {
      if (auto s = weak.lock()) s->deliver();
    });
  }
  // One read per task, of everything written since the last, so that other connections' reads
  // interleave as on a real loop.
  void deliver() {
    scheduled_ = false;
    if (closing_ || !started_ || paused_ || ended_) return;
    if (!inbox_.empty()) {
      Bytes chunk = std::move(inbox_.front());
      inbox_.pop_front();
      for (const Bytes& more : inbox_) append(chunk, more);
      inbox_.clear();
      auto keep = shared_from_this();
      handlers_.on_data(chunk);
      if (!inbox_.empty() || peer_closed_) schedule();
      return;
    }
    if (peer_closed_) {
      ended_ = true;
      if (handlers_.on_end) {
        handlers_.on_end();
      } else {
        close();
      }
    }
  }
  void finish_close() {
    auto keep = std::move(self_);
    Handlers h = std::move(handlers_);
    handlers_ = {};
    inbox_.clear();
    if (h.on_close) h.on_close();
  }

  MemoryNetwork& net_;
  std::string endpoint_;
  bool dialer_;
  std::weak_ptr<MemoryStream> peer_;
  std::shared_ptr<MemoryStream> self_;  // alive until closed
  Handlers handlers_;
  std::deque<Bytes> inbox_;
  bool started_ = false;
  bool paused_ = false;
  bool scheduled_ = false;
  bool peer_closed_ = false;
  bool ended_ = false;
  bool closing_ = false;
  bool shut_ = false;
};

namespace {

class MemoryListener final : public relay::Listener {
 public:
  MemoryListener(MemoryNetwork& net, std::string key, uint16_t port)
      : net_(net), key_(std::move(key)), port_(port) {}
  ~MemoryListener() override { close(); }
  uint16_t port() const override { return port_; }
  void close() override {
    if (closed_) return;
    closed_ = true;
    net_.listeners_.erase(key_);
  }

 private:
  MemoryNetwork& net_;
  std::string key_;
  uint16_t port_;
  bool closed_ = false;
};

class MemoryDialer final : public relay::Dialer {
 public:
  MemoryDialer(MemoryNetwork& net, std::string key, relay::Transport::StreamHandler on_connected,
               std::string source = {})
      : net_(net), key_(std::move(key)), on_connected_(std::move(on_connected)), source_(std::move(source)) {
    timer_ = net_.clock_.timer([this] { dial(); });
  }
  ~MemoryDialer() override { stop(); }
  void start() override {
    auto alive = alive_;
    net_.post([this, alive] {
      if (*alive) dial();
    });
  }
  void connection_lost() override { schedule(); }
  void stop() override {
    *alive_ = false;
    stopped_ = true;
    timer_->cancel();
  }

 private:
  void dial() {
    if (stopped_) return;
    auto it = net_.listeners_.find(key_);
    if (it == net_.listeners_.end()) {
      schedule();
      return;
    }
    auto client = std::make_shared<MemoryStream>(net_, key_, true);
    auto server = std::make_shared<MemoryStream>(net_, key_, false);
    server->set_source(source_);
    MemoryStream::pair(client, server);
    net_.streams_.push_back(client);
    net_.streams_.push_back(server);
    ++net_.connects_;
    backoff_ = 50'000;
    auto alive = alive_;
    MemoryNetwork* net = &net_;
    const std::string key = key_;
    net_.post([net, key, server] {
      // Accepted only if the listener is still there when the connection arrives.
      auto l = net->listeners_.find(key);
      if (l == net->listeners_.end()) {
        server->close();
        return;
      }
      l->second.on_accept(server);
    });
    net_.post([this, alive, client] {
      if (*alive) {
        on_connected_(client);
      } else {
        client->close();
      }
    });
  }
  void schedule() {
    if (stopped_) return;
    timer_->arm_at(net_.clock_.now() + backoff_);
    backoff_ = std::min<Micros>(backoff_ * 2, 5'000'000);
  }
  MemoryNetwork& net_;
  std::string key_;
  relay::Transport::StreamHandler on_connected_;
  std::string source_;  // what the accepted side reports as its source
  std::unique_ptr<Timer> timer_;
  Micros backoff_ = 50'000;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

MemoryNetwork::~MemoryNetwork() = default;

std::string MemoryNetwork::key(const relay::Endpoint& e) {
  if (!e.unix_path.empty()) return "unix:" + e.unix_path;
  return e.host + ":" + std::to_string(e.port);
}

std::unique_ptr<relay::Listener> MemoryNetwork::listen(const relay::Endpoint& where,
                                                       StreamHandler on_accept) {
  relay::Endpoint e = where;
  if (e.unix_path.empty() && e.port == 0) e.port = next_port_++;
  const std::string k = key(e);
  if (listeners_.count(k) != 0) throw std::runtime_error("listen: address in use: " + k);
  listeners_[k] = ListenerEntry{std::move(on_accept)};
  return std::make_unique<MemoryListener>(*this, k, e.port);
}

std::unique_ptr<relay::Dialer> MemoryNetwork::dialer(const relay::Endpoint& where,
                                                     StreamHandler on_connected) {
  return std::make_unique<MemoryDialer>(*this, key(where), std::move(on_connected));
}

std::unique_ptr<relay::Dialer> MemoryNetwork::dialer_from(const std::string& source,
                                                          const relay::Endpoint& where,
                                                          StreamHandler on_connected) {
  return std::make_unique<MemoryDialer>(*this, key(where), std::move(on_connected), source);
}

std::size_t MemoryNetwork::run() {
  std::size_t n = 0;
  while (!tasks_.empty()) {
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    task();
    ++n;
  }
  return n;
}

std::size_t MemoryNetwork::sever(const relay::Endpoint& where) {
  const std::string k = key(where);
  std::size_t n = 0;
  std::vector<std::shared_ptr<MemoryStream>> cut;
  for (auto& w : streams_) {
    if (auto s = w.lock(); s && s->open() && s->endpoint() == k) cut.push_back(s);
  }
  for (auto& s : cut) {
    if (s->open()) {
      s->close();
      ++n;
    }
  }
  std::erase_if(streams_, [](const auto& w) { return w.expired(); });
  return n / 2 + n % 2;
}

void MemoryNetwork::shutdown(relay::Stream& s) { static_cast<MemoryStream&>(s).shutdown(); }

void MemoryNetwork::close_all() {
  std::vector<std::shared_ptr<MemoryStream>> open;
  for (auto& w : streams_) {
    if (auto s = w.lock(); s && s->open()) open.push_back(s);
  }
  for (auto& s : open) s->close();
  run();
  streams_.clear();
}

std::size_t MemoryNetwork::open_connections() const {
  std::size_t n = 0;
  for (const auto& w : streams_) {
    if (auto s = w.lock(); s && s->open()) ++n;
  }
  return n / 2;
}

}  // namespace veil::sim

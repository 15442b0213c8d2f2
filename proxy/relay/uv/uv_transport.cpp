// libuv streams (one coalescing write queue each), listeners and dialers with backoff.
#include "proxy/relay/uv/uv_transport.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "base/check.h"

namespace veil::relay {
namespace {

constexpr std::size_t kReadChunk = 256 * 1024;

class UvStream final : public Stream, public std::enable_shared_from_this<UvStream> {
 public:
  static std::shared_ptr<UvStream> create(uv_loop_t* loop, bool unix_socket) {
    std::shared_ptr<UvStream> s(new UvStream(loop, unix_socket));
    s->self_ = s;  // libuv holds the handle until its close callback
    return s;
  }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle_); }

  void start(Handlers h) override {
    handlers_ = std::move(h);
    // Fails only on a socket the peer already reset; the first read then reports that.
    if (handle_.tcp.type == UV_TCP) (void)uv_tcp_nodelay(&handle_.tcp, 1);
    read_start();
  }
  void pause() override {
    if (paused_ || closing_) return;
    paused_ = true;
    (void)uv_read_stop(stream());  // always 0
  }
  void resume() override {
    if (!paused_ || closing_ || ended_) return;
    paused_ = false;
    read_start();
  }
  void write(std::span<const ByteView> pieces) override {
    if (closing_) return;
    for (ByteView p : pieces) append(pending_, p);
    if (!writing_) flush();
  }
  void close() override {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_close);
  }
  void close_when_flushed() override {
    if (closing_) return;
    if (!writing_ && pending_.empty()) {
      close();
    } else {
      close_after_flush_ = true;
    }
  }
  bool closed() const override { return closing_; }
  std::size_t pending_bytes() const override { return pending_.size() + inflight_.size(); }
  std::string source() const override { return source_; }
  // Records the peer's IP literal (accepted TCP connections).
  void read_source() {
    sockaddr_storage addr{};
    int len = sizeof addr;
    if (uv_tcp_getpeername(&handle_.tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[64] = {};
    if (uv_ip_name(reinterpret_cast<const sockaddr*>(&addr), text, sizeof text) == 0) source_ = text;
  }

 private:
  UvStream(uv_loop_t* loop, bool unix_socket) {
    if (unix_socket) {
      VEIL_CHECK(uv_pipe_init(loop, &handle_.pipe, 0) == 0, "uv_pipe_init");
    } else {
      VEIL_CHECK(uv_tcp_init(loop, &handle_.tcp) == 0, "uv_tcp_init");
    }
    handle_.tcp.data = this;  // `data` is at the same offset in every handle type
  }
  void read_start() {
    // Fails only on a handle that is closing or not a readable stream: a connection that the
    // peer reset between accept and start. Treat like a read error.
    if (uv_read_start(stream(), on_alloc, on_read) != 0) close();
  }
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* s = static_cast<UvStream*>(h->data);
    if (s->read_buf_.size() != kReadChunk) s->read_buf_.resize(kReadChunk);
    *buf = uv_buf_init(reinterpret_cast<char*>(s->read_buf_.data()), kReadChunk);
  }
  static void on_read(uv_stream_t* st, ssize_t n, const uv_buf_t*) {
    auto* s = static_cast<UvStream*>(st->data);
    if (n == UV_EOF) {
      auto keep = s->shared_from_this();
      if (s->ended_ || s->closing_) return;
      s->ended_ = true;
      (void)uv_read_stop(s->stream());  // always 0
      if (s->handlers_.on_end) {
        s->handlers_.on_end();
      } else {
        s->close();
      }
      return;
    }
    if (n < 0) {
      s->close();
      return;
    }
    if (n == 0 || s->closing_) return;
    auto keep = s->shared_from_this();
    s->handlers_.on_data(ByteView(s->read_buf_.data(), static_cast<std::size_t>(n)));
  }
  void flush() {
    if (pending_.empty() || closing_) return;
    inflight_.swap(pending_);
    pending_.clear();
    uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(inflight_.data()),
                               static_cast<unsigned>(inflight_.size()));
    write_req_.data = this;
    writing_ = true;
    if (uv_write(&write_req_, stream(), &buf, 1, on_write) != 0) {
      writing_ = false;
      close();
    }
  }
  static void on_write(uv_write_t* req, int status) {
    auto* s = static_cast<UvStream*>(req->data);
    s->writing_ = false;
    s->inflight_.clear();
    if (status < 0) {
      s->close();
      return;
    }
    s->flush();
    if (s->close_after_flush_ && !s->writing_ && s->pending_.empty()) s->close();
  }
  static void on_close(uv_handle_t* h) {
    auto* s = static_cast<UvStream*>(h->data);
    auto keep = std::move(s->self_);
    Handlers handlers = std::move(s->handlers_);
    s->handlers_ = {};
    if (handlers.on_close) handlers.on_close();
  }

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_{};
  Handlers handlers_;
  Bytes read_buf_;
  Bytes pending_;
  Bytes inflight_;
  uv_write_t write_req_{};
  bool writing_ = false;
  bool closing_ = false;
  bool paused_ = false;
  bool ended_ = false;
  bool close_after_flush_ = false;
  std::string source_;
  std::shared_ptr<UvStream> self_;
};

class UvListener final : public Listener {
 public:
  UvListener(uv_loop_t* loop, const Endpoint& where, Transport::StreamHandler on_accept)
      : loop_(loop), unix_(!where.unix_path.empty()), on_accept_(std::move(on_accept)) {
    int rc = 0;
    if (unix_) {
      VEIL_CHECK(uv_pipe_init(loop, &handle_->pipe, 0) == 0, "uv_pipe_init");
      handle_->pipe.data = this;
      ::unlink(where.unix_path.c_str());
      rc = uv_pipe_bind(&handle_->pipe, where.unix_path.c_str());
      // The configured permissions (owner and group by default), whatever the umask.
      if (rc == 0 && ::chmod(where.unix_path.c_str(), where.unix_mode) != 0) rc = uv_translate_sys_error(errno);
    } else {
      VEIL_CHECK(uv_tcp_init(loop, &handle_->tcp) == 0, "uv_tcp_init");
      handle_->tcp.data = this;
      sockaddr_storage addr{};
      if (!numeric_address(where.host, where.port, addr)) {
        open_ = true;
        close();
        throw std::runtime_error("listen: not a numeric address: " + where.host);
      }
      rc = uv_tcp_bind(&handle_->tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
    }
    open_ = true;
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle_), 1024, on_connection);
    if (rc != 0) {
      close();
      throw std::runtime_error(std::string("listen: ") + uv_strerror(rc));
    }
    if (!unix_) {
      sockaddr_storage bound{};
      int len = sizeof bound;
      VEIL_CHECK(uv_tcp_getsockname(&handle_->tcp, reinterpret_cast<sockaddr*>(&bound), &len) == 0,
                 "uv_tcp_getsockname on a bound socket");
      port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                               : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
  }
  ~UvListener() override { close(); }
  uint16_t port() const override { return port_; }
  void close() override {
    if (!open_) return;
    open_ = false;
    // The handle is freed in its close callback, which may run after this object died.
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  }

 private:
  union Handle {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  };
  static void on_connection(uv_stream_t* server, int status) {
    auto* l = static_cast<UvListener*>(server->data);
    if (status < 0) return;
    auto s = UvStream::create(l->loop_, l->unix_);
    if (uv_accept(server, s->stream()) != 0) {
      s->close();
      return;
    }
    if (!l->unix_) s->read_source();
    l->on_accept_(std::move(s));
  }
  uv_loop_t* loop_;
  bool unix_;
  Transport::StreamHandler on_accept_;
  Handle* handle_ = new Handle{};
  uint16_t port_ = 0;
  bool open_ = false;
};

class UvDialer final : public Dialer {
 public:
  UvDialer(uv_loop_t* loop, const Endpoint& where, Transport::StreamHandler on_connected)
      : loop_(loop), where_(where), on_connected_(std::move(on_connected)),
        timer_(new uv_timer_t{}) {
    VEIL_CHECK(uv_timer_init(loop, timer_) == 0, "uv_timer_init");
    timer_->data = this;
  }
  ~UvDialer() override { stop(); }
  void start() override { dial(); }
  void connection_lost() override { schedule(); }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    *alive_ = false;
    (void)uv_timer_stop(timer_);  // always 0
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }

 private:
  struct ConnectRequest {
    uv_connect_t req{};
    UvDialer* dialer;
    std::shared_ptr<bool> alive;
    std::shared_ptr<UvStream> stream;
  };
  void dial() {
    if (stopped_) return;
    if (!where_.unix_path.empty()) {
      auto* r = new ConnectRequest{{}, this, alive_, UvStream::create(loop_, true)};
      r->req.data = r;
      uv_pipe_connect(&r->req, reinterpret_cast<uv_pipe_t*>(r->stream->stream()),
                      where_.unix_path.c_str(), on_connect);
      return;
    }
    sockaddr_storage addr{};
    if (!numeric_address(where_.host, where_.port, addr)) {
      schedule();
      return;
    }
    auto* r = new ConnectRequest{{}, this, alive_, UvStream::create(loop_, false)};
    r->req.data = r;
    if (uv_tcp_connect(&r->req, reinterpret_cast<uv_tcp_t*>(r->stream->stream()),
                       reinterpret_cast<const sockaddr*>(&addr), on_connect) != 0) {
      r->stream->close();
      delete r;
      schedule();
    }
  }
  static void on_connect(uv_connect_t* req, int status) {
    std::unique_ptr<ConnectRequest> r(static_cast<ConnectRequest*>(req->data));
    if (!*r->alive) {
      r->stream->close();
      return;
    }
    UvDialer* d = r->dialer;
    if (status < 0) {
      r->stream->close();
      d->schedule();
      return;
    }
    d->backoff_ms_ = 50;
    d->on_connected_(std::move(r->stream));
  }
  void schedule() {
    if (stopped_) return;
    VEIL_CHECK(uv_timer_start(timer_, [](uv_timer_t* t) { static_cast<UvDialer*>(t->data)->dial(); },
                              backoff_ms_, 0) == 0,
               "uv_timer_start");
    backoff_ms_ = std::min<uint64_t>(backoff_ms_ * 2, 5000);
  }

  uv_loop_t* loop_;
  Endpoint where_;
  Transport::StreamHandler on_connected_;
  uv_timer_t* timer_;  // heap: freed in its close callback, which may run after this object died
  uint64_t backoff_ms_ = 50;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

bool numeric_address(const std::string& host, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return true;
  return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

std::unique_ptr<Listener> UvTransport::listen(const Endpoint& where, StreamHandler on_accept) {
  return std::make_unique<UvListener>(loop_, where, std::move(on_accept));
}

std::unique_ptr<Dialer> UvTransport::dialer(const Endpoint& where, StreamHandler on_connected) {
  return std::make_unique<UvDialer>(loop_, where, std::move(on_connected));
}

}  // namespace veil::relay

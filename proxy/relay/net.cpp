// libuv stream, listener and dialer implementations.
#include "proxy/relay/net.h"

#include <cstring>
#include <stdexcept>

namespace veil::relay {

namespace {
constexpr std::size_t kReadChunk = 256 * 1024;
}

bool numeric_address(const std::string& host, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return true;
  return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

Connection::Connection(uv_loop_t* loop, bool unix_socket, std::size_t max_frame)
    : decoder_(max_frame) {
  if (unix_socket) {
    uv_pipe_init(loop, &handle_.pipe, 0);
  } else {
    uv_tcp_init(loop, &handle_.tcp);
  }
  handle_.tcp.data = this;  // `data` is at the same offset in every handle type
}

Connection::~Connection() = default;

std::shared_ptr<Connection> Connection::create(uv_loop_t* loop, bool unix_socket,
                                               std::size_t max_frame) {
  std::shared_ptr<Connection> c(new Connection(loop, unix_socket, max_frame));
  c->self_ = c;
  return c;
}

void Connection::start(FrameHandler on_frame, ErrorHandler on_error, CloseHandler on_close,
                       ReadDoneHandler on_read_done, EndHandler on_end) {
  on_frame_ = std::move(on_frame);
  on_error_ = std::move(on_error);
  on_close_ = std::move(on_close);
  on_read_done_ = std::move(on_read_done);
  on_end_ = std::move(on_end);
  if (handle_.tcp.type == UV_TCP) {
    uv_tcp_nodelay(&handle_.tcp, 1);
  }
  uv_read_start(stream(), on_alloc, on_read);
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  if (c->read_buf_.size() != kReadChunk) c->read_buf_.resize(kReadChunk);
  *buf = uv_buf_init(reinterpret_cast<char*>(c->read_buf_.data()), kReadChunk);
}

void Connection::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
  auto* c = static_cast<Connection*>(s->data);
  if (n == UV_EOF) {
    auto keep = c->shared_from_this();
    c->end_of_input();
    return;
  }
  if (n < 0) {
    c->close();
    return;
  }
  if (n == 0 || c->closing_) return;
  auto keep = c->shared_from_this();
  c->decoder_.feed(ByteView(c->read_buf_.data(), static_cast<std::size_t>(n)));
  while (!c->closing_) {
    auto next = c->decoder_.next();
    if (!next) {
      if (c->on_read_done_) c->on_read_done_(*c);  // hand over the good frames before this one
      if (c->on_error_) c->on_error_(*c, next.error());
      c->end_of_input();
      return;
    }
    if (!next->has_value()) break;
    c->on_frame_(*c, std::move(**next));
  }
  if (!c->closing_ && c->on_read_done_) c->on_read_done_(*c);
}

void Connection::end_of_input() {
  if (ended_ || closing_) return;
  ended_ = true;
  uv_read_stop(stream());
  if (on_end_) {
    on_end_(*this);
  } else {
    close();
  }
}

void Connection::close_when_flushed() {
  if (closing_) return;
  if (!writing_ && pending_.empty()) {
    close();
  } else {
    close_after_flush_ = true;
  }
}

void Connection::pause() {
  if (paused_ || closing_) return;
  paused_ = true;
  uv_read_stop(stream());
}

void Connection::resume() {
  if (!paused_ || closing_ || ended_) return;
  paused_ = false;
  uv_read_start(stream(), on_alloc, on_read);
}

void Connection::send(ByteView body) { send2(body, {}); }

void Connection::send2(ByteView a, ByteView b) {
  if (closing_) return;
  append(pending_, frame_header(a.size() + b.size()));
  append(pending_, a);
  append(pending_, b);
  if (!writing_) flush();
}

void Connection::send_raw(ByteView framed) {
  if (closing_) return;
  append(pending_, framed);
  if (!writing_) flush();
}

void Connection::flush() {
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

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->writing_ = false;
  c->inflight_.clear();
  if (status < 0) {
    c->close();
    return;
  }
  c->flush();
  if (c->close_after_flush_ && !c->writing_ && c->pending_.empty()) c->close();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_close);
}

void Connection::on_close(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  auto keep = std::move(c->self_);
  if (c->on_close_) c->on_close_(*c);
  c->on_frame_ = nullptr;
  c->on_error_ = nullptr;
  c->on_close_ = nullptr;
  c->on_read_done_ = nullptr;
  c->on_end_ = nullptr;
}

Listener::Listener(uv_loop_t* loop, const Endpoint& where, std::size_t max_frame,
                   AcceptHandler on_accept)
    : loop_(loop), unix_(!where.unix_path.empty()), max_frame_(max_frame),
      on_accept_(std::move(on_accept)) {
  int rc = 0;
  if (unix_) {
    uv_pipe_init(loop, &handle_.pipe, 0);
    handle_.pipe.data = this;
    ::unlink(where.unix_path.c_str());
    rc = uv_pipe_bind(&handle_.pipe, where.unix_path.c_str());
  } else {
    uv_tcp_init(loop, &handle_.tcp);
    handle_.tcp.data = this;
    sockaddr_storage addr{};
    if (!numeric_address(where.host, where.port, addr)) {
      throw std::runtime_error("listen: not a numeric address: " + where.host);
    }
    rc = uv_tcp_bind(&handle_.tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  }
  open_ = true;
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&handle_), 1024, on_connection);
  if (rc != 0) {
    throw std::runtime_error(std::string("listen: ") + uv_strerror(rc));
  }
  if (!unix_) {
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&handle_.tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET
                      ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                      : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
}

Listener::~Listener() { close(); }

void Listener::close() {
  if (!open_) return;
  open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), nullptr);
}

void Listener::on_connection(uv_stream_t* server, int status) {
  auto* l = static_cast<Listener*>(server->data);
  if (status < 0) return;
  auto c = Connection::create(l->loop_, l->unix_, l->max_frame_);
  if (uv_accept(server, c->stream()) != 0) {
    c->close();
    return;
  }
  l->on_accept_(std::move(c));
}

Dialer::Dialer(uv_loop_t* loop, std::string host, uint16_t port, std::size_t max_frame,
               ConnectedHandler on_connected, std::string unix_path)
    : loop_(loop), host_(std::move(host)), port_(port), unix_path_(std::move(unix_path)),
      max_frame_(max_frame), on_connected_(std::move(on_connected)) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

Dialer::~Dialer() { stop(); }

void Dialer::start() { dial(); }

void Dialer::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

struct ConnectRequest {
  uv_connect_t req{};
  Dialer* dialer;
  std::shared_ptr<bool> alive;
  std::shared_ptr<Connection> conn;
};

void Dialer::dial() {
  if (stopped_) return;
  if (!unix_path_.empty()) {
    auto* r = new ConnectRequest{{}, this, alive_, Connection::create(loop_, true, max_frame_)};
    r->req.data = r;
    uv_pipe_connect(&r->req, reinterpret_cast<uv_pipe_t*>(r->conn->stream()), unix_path_.c_str(),
                    on_connect);
    return;
  }
  sockaddr_storage addr{};
  if (!numeric_address(host_, port_, addr)) {
    schedule();
    return;
  }
  auto* r = new ConnectRequest{{}, this, alive_, Connection::create(loop_, false, max_frame_)};
  r->req.data = r;
  if (uv_tcp_connect(&r->req, reinterpret_cast<uv_tcp_t*>(r->conn->stream()),
                     reinterpret_cast<const sockaddr*>(&addr), on_connect) != 0) {
    r->conn->close();
    delete r;
    schedule();
  }
}

void Dialer::on_connect(uv_connect_t* req, int status) {
  auto* r = static_cast<ConnectRequest*>(req->data);
  std::unique_ptr<ConnectRequest> owned(r);
  if (!*r->alive) {
    r->conn->close();
    return;
  }
  Dialer* d = r->dialer;
  if (status < 0) {
    r->conn->close();
    d->schedule();
    return;
  }
  d->backoff_ms_ = 50;
  d->on_connected_(std::move(r->conn));
}

void Dialer::connection_lost() { schedule(); }

void Dialer::schedule() {
  if (stopped_) return;
  uv_timer_start(&timer_, on_timer, backoff_ms_, 0);
  backoff_ms_ = std::min<uint64_t>(backoff_ms_ * 2, 5000);
}

void Dialer::on_timer(uv_timer_t* t) { static_cast<Dialer*>(t->data)->dial(); }

}  // namespace veil::relay

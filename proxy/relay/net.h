// Thin libuv wrappers: framed stream connections (TCP or Unix), listeners and reconnecting dialers.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/error.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/framing.h"

namespace veil::relay {

// One framed byte stream. Owned through shared_ptr; stays alive until its close callback ran.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using FrameHandler = std::function<void(Connection&, Bytes frame)>;
  using ErrorHandler = std::function<void(Connection&, Error why)>;  // frame errors before close
  using CloseHandler = std::function<void(Connection&)>;
  using ReadDoneHandler = std::function<void(Connection&)>;  // after the frames of one read
  // The peer closed its sending side, or sent an unusable frame: no more frames will come, but
  // answers may still be written. Without this handler the connection simply closes.
  using EndHandler = std::function<void(Connection&)>;

  static std::shared_ptr<Connection> create(uv_loop_t* loop, bool unix_socket,
                                            std::size_t max_frame);
  ~Connection();

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle_); }
  // Starts reading; frames go to on_frame in order.
  void start(FrameHandler on_frame, ErrorHandler on_error, CloseHandler on_close,
             ReadDoneHandler on_read_done = nullptr, EndHandler on_end = nullptr);
  // Stops reading (backpressure) until resume().
  void pause();
  void resume();
  // Queues one frame (header added here). Writes coalesce; never blocks.
  void send(ByteView body);
  // Queues header || a || b as one frame without building it first.
  void send2(ByteView a, ByteView b);
  // Queues bytes that are already framed.
  void send_raw(ByteView framed);
  std::size_t pending_bytes() const { return pending_.size() + inflight_.size(); }
  void close();
  // Closes once everything queued has been written.
  void close_when_flushed();
  bool closed() const { return closing_; }

  void* user = nullptr;  // owner's context

 private:
  Connection(uv_loop_t* loop, bool unix_socket, std::size_t max_frame);
  void flush();
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t*);
  static void on_read(uv_stream_t*, ssize_t, const uv_buf_t*);
  static void on_write(uv_write_t*, int);
  static void on_close(uv_handle_t*);
  void end_of_input();

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_{};
  FrameDecoder decoder_;
  Bytes read_buf_;
  Bytes pending_;
  Bytes inflight_;
  uv_write_t write_req_{};
  bool writing_ = false;
  bool closing_ = false;
  FrameHandler on_frame_;
  ErrorHandler on_error_;
  CloseHandler on_close_;
  ReadDoneHandler on_read_done_;
  EndHandler on_end_;
  bool paused_ = false;
  bool ended_ = false;
  bool close_after_flush_ = false;
  std::shared_ptr<Connection> self_;  // keeps the object alive while libuv holds the handle
};

// Accepts connections on a TCP or Unix endpoint.
class Listener {
 public:
  using AcceptHandler = std::function<void(std::shared_ptr<Connection>)>;
  Listener(uv_loop_t* loop, const Endpoint& where, std::size_t max_frame, AcceptHandler on_accept);
  ~Listener();
  // The bound port (useful when configured as 0); 0 for Unix sockets.
  uint16_t port() const { return port_; }
  void close();

 private:
  static void on_connection(uv_stream_t*, int);
  uv_loop_t* loop_;
  bool unix_;
  std::size_t max_frame_;
  AcceptHandler on_accept_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_{};
  uint16_t port_ = 0;
  bool open_ = false;
};

// Keeps one outgoing connection up: dials, and after a failure or close re-dials with
// exponential backoff (50 ms doubling to 5 s). An empty host with a Unix path dials the socket.
class Dialer {
 public:
  using ConnectedHandler = std::function<void(std::shared_ptr<Connection>)>;
  Dialer(uv_loop_t* loop, std::string host, uint16_t port, std::size_t max_frame,
         ConnectedHandler on_connected, std::string unix_path = {});
  ~Dialer();
  void start();
  // Call when the connection handed out earlier has closed.
  void connection_lost();
  void stop();

 private:
  void dial();
  void schedule();
  static void on_connect(uv_connect_t*, int);
  static void on_timer(uv_timer_t*);
  uv_loop_t* loop_;
  std::string host_;
  uint16_t port_;
  std::string unix_path_;
  std::size_t max_frame_;
  ConnectedHandler on_connected_;
  uv_timer_t timer_{};
  uint64_t backoff_ms_ = 50;
  bool stopped_ = false;
  std::shared_ptr<Connection> dialing_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Resolves a numeric IPv4/IPv6 literal into a sockaddr; false if it is not one.
bool numeric_address(const std::string& host, uint16_t port, sockaddr_storage& out);

}  // namespace veil::relay

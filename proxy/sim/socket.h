// Blocking loopback sockets with length-prefixed frames, for simulators, tests and benchmarks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"

namespace veil::sim {

// An owned file descriptor of a connected stream socket.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Connects to 127.0.0.1:port (or a Unix socket path); throws std::runtime_error on failure.
  static Socket connect_tcp(uint16_t port, const std::string& host = "127.0.0.1");
  static Socket connect_unix(const std::string& path);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Sends all bytes; false if the peer went away.
  bool send_all(ByteView bytes);
  bool send_frame(ByteView body);
  // Reads exactly n bytes; false on EOF/error.
  bool recv_exact(uint8_t* out, std::size_t n);
  // One frame body, or nullopt on EOF/error or a frame larger than max.
  std::optional<Bytes> recv_frame(std::size_t max = 16u << 20);
  // Reads up to n bytes; 0 on EOF, -1 on error.
  long recv_some(uint8_t* out, std::size_t n);
  void shutdown_write();
  void close();
  // Blocking reads give up after `timeout` (they then report EOF/error), so a missing answer
  // fails instead of hanging.
  void set_recv_timeout(std::chrono::milliseconds timeout);
  // The local (source) port of this connection.
  uint16_t local_port() const;

 private:
  int fd_ = -1;
};

// A listening TCP socket on 127.0.0.1 (port 0 = any free port).
class ServerSocket {
 public:
  explicit ServerSocket(uint16_t port = 0);
  ~ServerSocket();
  ServerSocket(const ServerSocket&) = delete;
  ServerSocket& operator=(const ServerSocket&) = delete;
  uint16_t port() const { return port_; }
  // Waits for a connection; nullopt once stop_accepting() or close() was called.
  std::optional<Socket> accept();
  // Wakes a blocked accept() without closing the descriptor (safe while another thread is in
  // accept(); close() only once that thread is done).
  void stop_accepting();
  void close();

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A currently free TCP port on 127.0.0.1, chosen at random below the ephemeral port range (bound and
// released; racy only against other processes).
uint16_t free_port();

}  // namespace veil::sim

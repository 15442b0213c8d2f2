// POSIX socket plumbing for the simulators.
#include "proxy/sim/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>

#include "proxy/relay/core/framing.h"

namespace veil::sim {

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() { close(); }

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Socket::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Socket::set_recv_timeout(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

uint16_t Socket::local_port() const {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

Socket Socket::connect_tcp(uint16_t port, const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket()");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Socket(fd);
}

Socket Socket::connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket()");
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to " + path + ": " + std::strerror(errno));
  }
  return Socket(fd);
}

bool Socket::send_all(ByteView bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool Socket::send_frame(ByteView body) {
  const auto h = relay::frame_header(body.size());
  Bytes buf;
  buf.reserve(h.size() + body.size());
  append(buf, h);
  append(buf, body);
  return send_all(buf);
}

bool Socket::recv_exact(uint8_t* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::recv(fd_, out + done, n - done, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

long Socket::recv_some(uint8_t* out, std::size_t n) {
  for (;;) {
    const ssize_t r = ::recv(fd_, out, n, 0);
    if (r < 0 && errno == EINTR) continue;
    return static_cast<long>(r);
  }
}

std::optional<Bytes> Socket::recv_frame(std::size_t max) {
  uint8_t h[4];
  if (!recv_exact(h, 4)) return std::nullopt;
  const std::size_t len = static_cast<std::size_t>(h[0]) << 24 | static_cast<std::size_t>(h[1]) << 16 |
                          static_cast<std::size_t>(h[2]) << 8 | h[3];
  if (len > max) return std::nullopt;
  Bytes body(len);
  if (!recv_exact(body.data(), len)) return std::nullopt;
  return body;
}

ServerSocket::ServerSocket(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 128) != 0) {
    ::close(fd_);
    throw std::runtime_error("bind/listen: " + std::string(std::strerror(errno)));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

ServerSocket::~ServerSocket() { close(); }

void ServerSocket::stop_accepting() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void ServerSocket::close() {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }
  fd_ = -1;
}

std::optional<Socket> ServerSocket::accept() {
  for (;;) {
    const int fd = fd_ >= 0 ? ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    if (fd >= 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return Socket(fd);
    }
    if (fd_ >= 0 && errno == EINTR) continue;
    return std::nullopt;
  }
}

uint16_t free_port() {
  // Below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768..60999 by default): the
  // kernel never gives such a port to an outgoing connection as its source port, so a relay that
  // is restarted on its port cannot find it taken by one of the connections dialling it.
  static std::mutex mu;
  static std::mt19937 gen(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32767);
  for (int i = 0; i < 200; ++i) {
    uint16_t p = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      p = static_cast<uint16_t>(pick(gen));
    }
    try {
      ServerSocket s(p);
      return s.port();
    } catch (const std::runtime_error&) {
      // taken: another
    }
  }
  ServerSocket s(0);
  return s.port();
}

}  // namespace veil::sim

// systemd's Type=notify protocol, as a real veil-relay speaks it to $NOTIFY_SOCKET: READY=1 once
// ready, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 when a drain starts.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

namespace veil::it {
namespace {

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // The next message, or "" after 5 s.
  std::string next() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(notify)

BOOST_AUTO_TEST_CASE(ready_reloading_and_stopping_reach_the_notify_socket) {
  Deployment net("notify", nlohmann::json::object(), /*with_mix=*/false);
  net.start(kBeta);
  NotifySocket sock((net.dir() / "notify.sock").string());
  ::setenv("NOTIFY_SOCKET", (net.dir() / "notify.sock").c_str(), 1);
  net.start(kAlpha);  // only relay-alpha gets the socket
  ::unsetenv("NOTIFY_SOCKET");
  const std::string ready = sock.next();
  BOOST_TEST(ready.rfind("READY=1\nSTATUS=relaying, epoch ", 0) == 0u, ready);
  net.reload(kAlpha, {{"mix", {{"strategy", "timed"}, {"interval_ms", 50}}}});
  BOOST_TEST(sock.next() == "RELOADING=1");
  BOOST_TEST(sock.next() == "READY=1");
  net.relay(kAlpha).begin_drain();
  BOOST_TEST(sock.next() == "STOPPING=1\nSTATUS=draining");
  BOOST_TEST(net.stop(kAlpha) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

// Limits on real relays: thousands of idle TCP connections to a peer port are held only up to the
// per-source cap (the rest closed at accept) and the total cap (the oldest unknown connection
// makes room), and the held ones are closed once the frame timeout passes; every one is counted,
// and the relays' own links and messages carry on.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "harness.h"

namespace veil::it {
namespace {

using namespace std::chrono_literals;

// A TCP connection to 127.0.0.1:port from `source` (a loopback address), or -1.
int connect_from(const std::string& source, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the relay closed its side (end of input or a reset); the relay sends nothing first.
bool closed_by_relay(int fd) {
  uint8_t b = 0;
  const long n = ::recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

std::size_t still_open(const std::vector<int>& fds) {
  std::size_t n = 0;
  for (int fd : fds) n += closed_by_relay(fd) ? 0 : 1;
  return n;
}

struct Fds {
  std::vector<int> v;
  ~Fds() {
    for (int fd : v) ::close(fd);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(thousands_of_idle_peer_connections_are_capped_then_timed_out) {
  rlimit nofile{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  nofile.rlim_cur = std::min<rlim_t>(nofile.rlim_max, 8192);
  BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &nofile) == 0);
  BOOST_REQUIRE(nofile.rlim_cur >= 3000);

  Deployment net("limits", {{"plain_links", false},
                            {"limits", {{"peer_connections", 100}, {"peer_connections_per_source", 40},
                                        {"frame_timeout_ms", 2000}}}});
  net.start();
  const uint16_t port = net.node(kBeta).peer_port;
  sim::RelayProcess& beta = net.relay(kBeta);

  // 2000 from one source: 40 held (relay-alpha's and mix-1's links come from 127.0.0.1).
  Fds one;
  for (int i = 0; i < 2000; ++i) {
    const int fd = connect_from("127.0.0.2", port);
    BOOST_REQUIRE(fd >= 0);
    one.v.push_back(fd);
  }
  BOOST_TEST(wait_counter(beta, "peer_connections_refused_source", 1960, 20s) == 1960u);
  BOOST_TEST(still_open(one.v) == 40u);
  // 200 from as many sources: connections whose peer is not known share the total cap (100; the
  // relays' own links are known and not counted): 60 fit, then each new one closes the oldest
  // unknown one, those 40 first.
  Fds many;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_from("127.0.1." + std::to_string(i + 1), port);
    BOOST_REQUIRE(fd >= 0);
    many.v.push_back(fd);
  }
  BOOST_TEST(wait_counter(beta, "peer_connections_refused", 140, 20s) == 140u);
  BOOST_TEST(wait_until(5s, [&] { return still_open(one.v) == 0u; }));
  BOOST_TEST(still_open(many.v) == 100u);
  // None of them ever says who it is: closed after the frame timeout (2 s; looked at every 0.5 s).
  BOOST_TEST(wait_counter(beta, "peer_connections_slow", 100, 10s) == 100u);
  BOOST_TEST(still_open(one.v) + still_open(many.v) == 0u);
  // The relays' own links stayed up, and messages go through.
  Submitter submitter(net.submit_port());
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[i], i, net.rng)));
  }
  BOOST_REQUIRE(submitter.wait_answers(10s));
  BOOST_TEST(submitter.accepted().size() == 5u);
  BOOST_TEST(wait_until(15s, [&] { return net.beta_inbox().distinct() >= 5u; }));
  for (const std::string name : {kAlpha, kMix}) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(net.counter(name, "peer_disconnects") == 0u); }
  }
}

BOOST_AUTO_TEST_CASE(unix_sockets_get_the_configured_mode_whatever_the_umask) {
  Deployment net("limits-unix");
  const std::string socket = (net.dir() / "submit.sock").string();
  net.configure(kAlpha, {{"submit_listen", "unix:" + socket}, {"unix_socket_mode", "0640"}});
  const mode_t old_umask = ::umask(0);  // the relay inherits it: sockets would be 0777
  net.start(kAlpha);
  ::umask(old_umask);
  struct stat st {};
  BOOST_REQUIRE(::stat(socket.c_str(), &st) == 0);
  BOOST_TEST(S_ISSOCK(st.st_mode));
  BOOST_TEST((st.st_mode & 07777) == 0640u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it

// The admin endpoint's HTTP side over loopback: what it says before the relay's loop takes over,
// answers computed by the loop, a loop that does not answer, refused methods, detaching, and bind
// errors. The requests are written by hand; the answers are checked by their status line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "proxy/relay/admin/admin_server.h"

namespace veil::relay {
namespace {

// One request on a fresh connection; everything the server sent until it closed (or 5 s).
std::string request(uint16_t port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, text.data(), text.size());
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return got;
}

std::string get(uint16_t port, const std::string& path) {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

bool has_status(const std::string& reply, unsigned status) {
  return reply.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0;
}

bool has_body(const std::string& reply, const std::string& body) {
  const auto at = reply.find("\r\n\r\n");
  return at != std::string::npos && reply.substr(at + 4) == body;
}

AdminServer::Options loopback() {
  AdminServer::Options o;
  o.listen.host = "127.0.0.1";
  o.listen.port = 0;
  o.loop_timeout_ms = 300;
  return o;
}

// A "loop" that runs every posted job at once on the caller's thread.
bool run_now(std::function<void()> job) {
  job();
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_server)

BOOST_AUTO_TEST_CASE(before_the_loop_takes_over_it_is_live_and_not_ready) {
  AdminServer admin(loopback());
  BOOST_TEST_REQUIRE(admin.port() != 0u);
  const std::string first = get(admin.port(), "/readyz");  // before any step is named
  BOOST_TEST(has_status(first, 503), first);
  BOOST_TEST(has_body(first, "starting\n"), first);
  admin.starting_step("opening the journal");
  const std::string live = get(admin.port(), "/livez");
  BOOST_TEST(has_status(live, 200), live);
  const std::string ready = get(admin.port(), "/readyz");
  BOOST_TEST(has_status(ready, 503), ready);
  BOOST_TEST(has_body(ready, "starting: opening the journal\n"), ready);
  BOOST_TEST(has_status(get(admin.port(), "/metrics"), 503));
}

BOOST_AUTO_TEST_CASE(answers_come_from_the_loop_and_only_get_and_head_are_served) {
  AdminServer admin(loopback());
  std::string asked;
  admin.attach(run_now, [&](std::string_view path) {
    asked = std::string(path);
    return AdminAnswer{200, "text/plain; charset=utf-8", "from the loop\n"};
  });
  const std::string reply = get(admin.port(), "/readyz");
  BOOST_TEST(has_status(reply, 200), reply);
  BOOST_TEST(has_body(reply, "from the loop\n"), reply);
  BOOST_TEST(asked == "/readyz");
  const std::string head = request(admin.port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(has_status(head, 200), head);
  BOOST_TEST(has_body(head, ""), head);
  const std::string post =
      request(admin.port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  BOOST_TEST(has_status(post, 405), post);
  const std::string garbage = request(admin.port(), "garbage\r\n\r\n");
  BOOST_TEST(!has_status(garbage, 200), garbage);
}

BOOST_AUTO_TEST_CASE(a_loop_that_does_not_answer_is_reported_and_detach_says_stopping) {
  AdminServer admin(loopback());
  admin.attach([](std::function<void()>) { return true; },  // taken, never run
               [](std::string_view) { return AdminAnswer{}; });
  const std::string live = get(admin.port(), "/livez");
  BOOST_TEST(has_status(live, 503), live);
  BOOST_TEST(live.find("loop not turning") != std::string::npos, live);
  admin.detach();
  const std::string after = get(admin.port(), "/readyz");
  BOOST_TEST(has_status(after, 503), after);
  BOOST_TEST(has_body(after, "stopping\n"), after);
}

BOOST_AUTO_TEST_CASE(bind_errors_name_the_endpoint) {
  AdminServer first(loopback());
  AdminServer::Options taken = loopback();
  taken.listen.port = first.port();
  try {
    AdminServer second(taken);
    BOOST_ERROR("a taken port was bound twice");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).rfind("admin_listen 127.0.0.1:" + std::to_string(first.port()) + ": ", 0) == 0u,
               e.what());
  }
  const auto file = std::filesystem::temp_directory_path() / ("veil-admin-test-" + std::to_string(::getpid()));
  std::ofstream(file) << "not a socket";
  AdminServer::Options unix_path;
  unix_path.listen.unix_path = file.string();
  BOOST_CHECK_EXCEPTION(AdminServer{unix_path}, std::runtime_error, [](const std::runtime_error& e) {
    return std::string(e.what()).find("exists and is not a socket") != std::string::npos;
  });
  BOOST_TEST(std::filesystem::exists(file));  // left alone
  std::filesystem::remove(file);
}

// The socket gets the configured mode whatever the umask (here 0, which would leave it 0777).
BOOST_AUTO_TEST_CASE(a_unix_socket_gets_the_configured_mode) {
  const auto path = std::filesystem::temp_directory_path() / ("veil-admin-sock-" + std::to_string(::getpid()));
  for (const unsigned mode : {0600u, 0640u, 0660u}) {
    AdminServer::Options o;
    o.listen.unix_path = path.string();
    o.unix_mode = mode;
    struct UmaskZero {  // umask 0 while the server binds, the old one back on every path
      mode_t old = ::umask(0);
      ~UmaskZero() { ::umask(old); }
    };
    {
      std::optional<AdminServer> admin;
      {
        UmaskZero zero;
        admin.emplace(o);
      }
      struct stat st {};
      BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
      BOOST_TEST(S_ISSOCK(st.st_mode));
      BOOST_TEST((st.st_mode & 07777) == mode);
      BOOST_TEST(admin->port() == 0);
    }
  }
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay

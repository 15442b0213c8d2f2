// The admin endpoint's HTTP side (libmicrohttpd, internal thread) and its hand-off to the loop.
#include "proxy/relay/admin/admin_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <stdexcept>

namespace veil::relay {

namespace {

// Where an endpoint is, for error messages.
std::string where(const Endpoint& e) {
  if (!e.unix_path.empty()) return "unix:" + e.unix_path;
  return (e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

[[noreturn]] void fail(const Endpoint& e, const std::string& what) {
  throw std::runtime_error("admin_listen " + where(e) + ": " + what);
}

// A listening socket on `e` (a Unix socket with mode `unix_mode`), non-blocking and close-on-exec;
// its port through `port`.
int bind_listener(const Endpoint& e, unsigned unix_mode, uint16_t* port) {
  if (!e.unix_path.empty()) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (e.unix_path.size() >= sizeof a.sun_path) fail(e, "path too long");
    std::memcpy(a.sun_path, e.unix_path.c_str(), e.unix_path.size() + 1);
    struct stat st {};
    if (::lstat(e.unix_path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) fail(e, "exists and is not a socket");
      ::unlink(e.unix_path.c_str());
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(e, std::strerror(errno));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::chmod(e.unix_path.c_str(), static_cast<mode_t>(unix_mode & 0777)) != 0 || ::listen(fd, 64) != 0) {
      const int err = errno;
      ::close(fd);
      fail(e, std::strerror(err));
    }
    *port = 0;
    return fd;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (e.host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(e.port);
    if (::inet_pton(AF_INET6, e.host.c_str(), &a6->sin6_addr) != 1) fail(e, "not an IPv6 address");
    len = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(e.port);
    if (::inet_pton(AF_INET, e.host.c_str(), &a4->sin_addr) != 1) fail(e, "not an IPv4 address");
    len = sizeof *a4;
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(e, std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    fail(e, std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  *port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

MHD_Result send(MHD_Connection* c, const AdminAnswer& a) {
  MHD_Response* r = MHD_create_response_from_buffer(a.body.size(), const_cast<char*>(a.body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a.content_type.c_str());
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  const MHD_Result ok = MHD_queue_response(c, a.status, r);
  MHD_destroy_response(r);
  return ok;
}

}  // namespace

// One answer handed from the loop thread to the HTTP thread.
struct AdminPending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  AdminAnswer answer;

  void give(AdminAnswer a) {
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    answer = std::move(a);
    done = true;
    cv.notify_all();
  }
};

struct AdminServerAccess {
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char*, const char*, size_t* upload_size, void** state) {
    static int first_call_marker;
    if (*state == nullptr) {  // headers only so far: answer once the request is complete
      *state = &first_call_marker;
      return MHD_YES;
    }
    if (*upload_size != 0) return MHD_NO;  // a body: the connection closes
    const std::string_view m(method);
    if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) {
      return send(c, AdminAnswer{405, "text/plain; charset=utf-8", "only GET and HEAD\n"});
    }
    return send(c, static_cast<AdminServer*>(cls)->answer(url));
  }
};

AdminServer::AdminServer(Options options) : options_(std::move(options)) {
  listen_fd_ = bind_listener(options_.listen, options_.unix_mode, &port_);
  daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, nullptr, nullptr,
      &AdminServerAccess::on_request, this,
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(listen_fd_),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(options_.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options_.connection_timeout_s),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(32 * 1024), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    // Whether libmicrohttpd closed the socket is not said: it is left open (the process ends).
    fail(options_.listen, "libmicrohttpd could not start");
  }
}

AdminServer::~AdminServer() {
  detach();
  MHD_stop_daemon(daemon_);  // joins the thread and closes the listening socket
  if (!options_.listen.unix_path.empty()) ::unlink(options_.listen.unix_path.c_str());
}

void AdminServer::starting_step(std::string step) {
  std::lock_guard<std::mutex> lock(mu_);
  step_ = std::move(step);
}

void AdminServer::attach(Post post, Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  post_ = std::move(post);
  handler_ = std::move(handler);
  attached_ = true;
}

void AdminServer::detach() {
  std::vector<std::weak_ptr<AdminPending>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    detached_ = true;
    waiting.swap(waiting_);
  }
  for (const auto& w : waiting) {
    if (auto p = w.lock()) p->give({503, "text/plain; charset=utf-8", "stopping\n"});
  }
}

AdminAnswer AdminServer::answer(std::string_view path) {
  auto pending = std::make_shared<AdminPending>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (detached_) return {503, "text/plain; charset=utf-8", "stopping\n"};
    if (!attached_) {
      if (path == "/livez") return {200, "text/plain; charset=utf-8", "starting\n"};
      return {503, "text/plain; charset=utf-8", (step_.empty() ? "starting" : "starting: " + step_) + "\n"};
    }
    // Posted under the lock: once detach() returned, nothing reaches the loop's mailbox.
    const bool posted = post_([pending, handler = handler_, p = std::string(path)] { pending->give(handler(p)); });
    if (!posted) return {503, "text/plain; charset=utf-8", "stopping\n"};
    std::erase_if(waiting_, [](const std::weak_ptr<AdminPending>& w) { return w.expired(); });
    waiting_.push_back(pending);
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  if (!pending->cv.wait_for(lock, std::chrono::milliseconds(options_.loop_timeout_ms),
                            [&] { return pending->done; })) {
    return {503, "text/plain; charset=utf-8",
            "loop not turning: no answer within " + std::to_string(options_.loop_timeout_ms) + " ms\n"};
  }
  return std::move(pending->answer);
}

}  // namespace veil::relay

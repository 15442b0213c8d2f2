// The admin endpoint: HTTP/1.1 on a loopback TCP port or a Unix socket, served by libmicrohttpd on
// its own thread; each answer is computed on the relay's loop thread, so a loop that stops turning
// is seen by /livez. Only GET and HEAD; bodies of requests are refused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/relay/core/endpoint.h"

struct MHD_Daemon;

namespace veil::relay {

struct AdminPending;  // an answer the HTTP thread waits for (admin_server.cpp)

struct AdminAnswer {
  unsigned status = 200;  // HTTP status
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  // Runs `job` on the loop thread soon; thread-safe. False if the loop takes no more jobs.
  using Post = std::function<bool(std::function<void()> job)>;
  // Computes the answer to GET `path` on the loop thread.
  using Handler = std::function<AdminAnswer(std::string_view path)>;

  struct Options {
    Endpoint listen;             // "host:port" (port 0: any free port) or "unix:/path"
    unsigned unix_mode = 0660;   // a Unix socket's permission bits (& 0777), whatever the umask;
                                 // the config check allows "0600".."0670" (owner rw, others none)
    unsigned max_connections = 32;
    unsigned connection_timeout_s = 10;  // an idle or slow connection is closed after this
    int64_t loop_timeout_ms = 2000;      // a loop that does not answer within this is reported
  };

  // Binds `options.listen` and starts serving at once: until attach(), /livez answers 200
  // "starting", /readyz 503 "starting" (then "starting: <step>") and everything else 503. A Unix
  // socket path is replaced if it exists and is a socket, and given `options.unix_mode`. Throws
  // std::runtime_error naming the endpoint when it cannot bind.
  explicit AdminServer(Options options);
  ~AdminServer();  // stops the thread; answers in flight get 503
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  uint16_t port() const { return port_; }  // 0 for a Unix socket
  // What /readyz says while starting ("opening the journal", ...).
  void starting_step(std::string step);
  // From now on every request is answered by `handler` on the loop through `post`.
  void attach(Post post, Handler handler);
  // Answers 503 "stopping" from now on (call before the loop stops taking jobs).
  void detach();

 private:
  friend struct AdminServerAccess;  // the libmicrohttpd callback (admin_server.cpp)
  AdminAnswer answer(std::string_view path);

  Options options_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;  // guards everything below; post_ is called under it (detach() is a barrier)
  std::string step_;  // empty until the first starting_step()
  bool attached_ = false;
  bool detached_ = false;
  Post post_;
  Handler handler_;
  std::vector<std::weak_ptr<AdminPending>> waiting_;  // answers not yet given
};

}  // namespace veil::relay

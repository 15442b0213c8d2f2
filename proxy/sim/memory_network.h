// An in-memory Transport for whole relays in one process: streams are pipes between two objects,
// every delivery is a queued task that run() performs in order, and dialers back off on the
// injected clock. Deterministic: no threads, no sockets, no wall time. As on TCP, what a stream's
// peer wrote since its last read arrives as one read (so several frames may form one batch).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "proxy/relay/core/stream.h"

namespace veil::sim {

class MemoryStream;

class MemoryNetwork final : public relay::Transport {
 public:
  explicit MemoryNetwork(Clock& clock) : clock_(clock) {}
  ~MemoryNetwork() override;

  // Listens under the endpoint's text ("host:port" or "unix:path"); port 0 gets a fresh number.
  // Throws std::runtime_error if something already listens there.
  std::unique_ptr<relay::Listener> listen(const relay::Endpoint& where,
                                          StreamHandler on_accept) override;
  std::unique_ptr<relay::Dialer> dialer(const relay::Endpoint& where,
                                        StreamHandler on_connected) override;
  // As dialer(), but the accepted side reports `source` as its source address (Stream::source).
  std::unique_ptr<relay::Dialer> dialer_from(const std::string& source, const relay::Endpoint& where,
                                             StreamHandler on_connected);

  // Performs queued tasks (accepts, connects, reads, end-of-stream and close notices) in order
  // until none is left, including those they queue; returns how many ran.
  std::size_t run();
  // Closes every open stream to or from the listener at `where` (both ends see it closed), as a
  // dropped TCP connection would; returns how many connections were cut.
  std::size_t sever(const relay::Endpoint& where);
  // Called for every write with the dialed endpoint, which side wrote (true: the dialer) and the
  // bytes: an observer of the wire, as a link tap is for real sockets.
  using WriteObserver = std::function<void(const std::string& endpoint, bool from_dialer, ByteView)>;
  void observe(WriteObserver w) { observer_ = std::move(w); }
  // Ends the sending side of `s` (a stream of this network): its peer reads the rest, then sees
  // the end, while `s` can still read (a TCP half-close).
  static void shutdown(relay::Stream& s);
  // Closes every stream still open (before the objects their handlers use are destroyed).
  void close_all();
  // Connections established so far, and those still open.
  std::size_t connects() const { return connects_; }
  std::size_t open_connections() const;

  // internal: used by the stream, listener and dialer implementations
  void post(std::function<void()> task) { tasks_.push_back(std::move(task)); }
  struct ListenerEntry {
    StreamHandler on_accept;
  };
  static std::string key(const relay::Endpoint& e);
  std::map<std::string, ListenerEntry> listeners_;
  Clock& clock_;
  WriteObserver observer_;
  std::vector<std::weak_ptr<MemoryStream>> streams_;
  std::size_t connects_ = 0;
  uint16_t next_port_ = 20000;

 private:
  std::deque<std::function<void()>> tasks_;
};

}  // namespace veil::sim

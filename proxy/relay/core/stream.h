// Byte streams and the transport that makes them: the relay's only view of sockets.
//
// A Stream is an ordered, reliable byte pipe to one party (a TCP or Unix socket in the daemon, an
// in-memory pipe in tests). A Transport listens and dials. Implementations: proxy/relay/uv/
// (libuv) and proxy/sim/memory_network (in process, driven by a manual clock). Everything here
// runs on the loop thread; callbacks never run inside the call that caused them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/bytes.h"
#include "proxy/relay/core/endpoint.h"

namespace veil::relay {

class Stream {
 public:
  struct Handlers {
    std::function<void(ByteView)> on_data;  // the bytes of one read, in order; valid during the call
    std::function<void()> on_end;           // the other side finished sending; reading stopped
    std::function<void()> on_close;         // closed (either side, or an error); the last call
  };
  virtual ~Stream() = default;
  // Starts reading. Until on_close, the stream keeps itself alive.
  virtual void start(Handlers handlers) = 0;
  // Stops delivering data (backpressure) until resume().
  virtual void pause() = 0;
  virtual void resume() = 0;
  // Queues the concatenation of `pieces`; writes coalesce and never block. Ignored once closing.
  virtual void write(std::span<const ByteView> pieces) = 0;
  // Closes now; bytes not yet written are dropped.
  virtual void close() = 0;
  // Closes once everything queued has been written.
  virtual void close_when_flushed() = 0;
  virtual bool closed() const = 0;
  // Bytes queued and not yet written.
  virtual std::size_t pending_bytes() const = 0;
  // The address of the other end, as an IP literal, for an accepted TCP connection; empty for a
  // Unix socket. Only for counting connections per source: never logged nor exported.
  virtual std::string source() const { return {}; }
};

class Listener {
 public:
  virtual ~Listener() = default;
  // The bound port (useful when configured as 0); 0 for Unix sockets.
  virtual uint16_t port() const = 0;
  virtual void close() = 0;
};

// Keeps one outgoing connection up: dials, and after a failure or a connection_lost() re-dials
// with exponential backoff (50 ms doubling to 5 s, reset by a successful connection).
class Dialer {
 public:
  virtual ~Dialer() = default;
  virtual void start() = 0;
  // Call when the stream handed out earlier has closed.
  virtual void connection_lost() = 0;
  virtual void stop() = 0;
};

class Transport {
 public:
  using StreamHandler = std::function<void(std::shared_ptr<Stream>)>;
  virtual ~Transport() = default;
  // Listens at `where`; every accepted stream goes to `on_accept`. Throws std::runtime_error
  // (startup error) if the endpoint cannot be bound.
  virtual std::unique_ptr<Listener> listen(const Endpoint& where, StreamHandler on_accept) = 0;
  // A dialer for `where` that hands each established stream to `on_connected`.
  virtual std::unique_ptr<Dialer> dialer(const Endpoint& where, StreamHandler on_connected) = 0;
};

}  // namespace veil::relay

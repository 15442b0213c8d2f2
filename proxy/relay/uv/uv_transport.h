// The production Transport: TCP and Unix-socket streams, listeners and reconnecting dialers on a
// libuv loop.
#pragma once

#include <uv.h>

#include "proxy/relay/core/stream.h"

namespace veil::relay {

class UvTransport final : public Transport {
 public:
  explicit UvTransport(uv_loop_t* loop) : loop_(loop) {}
  // Throws std::runtime_error if `where` is not a numeric address or cannot be bound.
  std::unique_ptr<Listener> listen(const Endpoint& where, StreamHandler on_accept) override;
  std::unique_ptr<Dialer> dialer(const Endpoint& where, StreamHandler on_connected) override;

 private:
  uv_loop_t* loop_;
};

// Resolves a numeric IPv4/IPv6 literal into a sockaddr; false if it is not one.
bool numeric_address(const std::string& host, uint16_t port, sockaddr_storage& out);

}  // namespace veil::relay

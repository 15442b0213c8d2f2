// The link-security slot: every byte to or from a peer relay passes through it, and it alone says
// who the peer is.
//
// Layers of a peer link, bottom up: Stream (bytes; core/stream.h) → SecureStream (this slot) →
// FramedStream (length-prefixed frames) → link frames (core/link_frame.h). The relay reaches a
// peer only through the FramedStream built on the SecureStream, so nothing can bypass the slot.
// NullSecurity is the unauthenticated link: the dialer names itself in a hello frame and the
// listener believes it. TlsSecurity (proxy/relay/tls/) is the authenticated implementation.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "proxy/relay/core/stream.h"

namespace veil::relay {

struct PeerIdentity {
  std::string name;            // the peer's directory name
  bool authenticated = false;  // proven by the security layer (false: only claimed)
};

// A byte stream whose bytes the security layer has processed, with the peer it found.
class SecureStream : public Stream {
 public:
  // The peer at the other end, once the handshake told; nullopt if it never identified itself.
  // Final before the first byte of data is delivered.
  virtual std::optional<PeerIdentity> peer() const = 0;
};

class LinkSecurity {
 public:
  virtual ~LinkSecurity() = default;
  // Secures a stream this relay dialed to the directory entry named `peer_name`. The returned
  // stream owns `raw`; keep it until its on_close has run.
  virtual std::shared_ptr<SecureStream> outbound(std::shared_ptr<Stream> raw,
                                                 const std::string& peer_name) = 0;
  // Secures a stream a peer dialed to this relay.
  virtual std::shared_ptr<SecureStream> inbound(std::shared_ptr<Stream> raw) = 0;
};

// No protection; identity is the name the dialer claims in its hello frame (docs/link-protocol.md).
// Outbound: the hello frame is written first, at start(). Inbound: a leading well-formed hello
// frame is consumed and names the peer; a link that starts with anything else has no identity
// and its bytes pass unchanged.
class NullSecurity final : public LinkSecurity {
 public:
  // `self_name`: this relay's directory name (1..255 bytes).
  explicit NullSecurity(std::string self_name) : self_name_(std::move(self_name)) {}
  std::shared_ptr<SecureStream> outbound(std::shared_ptr<Stream> raw,
                                         const std::string& peer_name) override;
  std::shared_ptr<SecureStream> inbound(std::shared_ptr<Stream> raw) override;

 private:
  std::string self_name_;
};

}  // namespace veil::relay

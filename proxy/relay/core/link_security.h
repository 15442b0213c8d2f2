// The link-security slot: every byte to or from a peer relay passes through it, and it alone says
// who the peer is.
//
// Layers of a peer link, bottom up: Stream (bytes; core/stream.h) → SecureStream (this slot) →
// FramedStream (length-prefixed frames) → link frames (core/link_frame.h). The relay reaches a
// peer only through the FramedStream built on the SecureStream, so nothing can bypass the slot.
// NullSecurity is the unauthenticated link: the dialer names itself in a hello frame and the
// listener believes it. TlsSecurity (proxy/relay/tls/) is the authenticated implementation.
#pragma once

#include <cstdint>
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

// Counts since construction; each stream counts at most one handshake outcome. No peer data.
struct LinkSecurityStats {
  uint64_t handshakes_completed = 0;   // this side finished its handshake (the peer was accepted)
  uint64_t handshakes_failed = 0;      // protocol error, garbage, peer hung up or sent an alert
  uint64_t handshakes_timed_out = 0;   // not finished within the handshake timeout
  uint64_t peers_refused_unknown_key = 0;  // key not in the directory, not Ed25519, or the relay
                                           // dialed is no longer in the directory
  uint64_t peers_refused_wrong_key = 0;    // outbound: a key other than the dialed relay's
};

class LinkSecurity {
 public:
  virtual ~LinkSecurity() = default;
  // Its counts (all zero for a slot that authenticates nothing).
  virtual LinkSecurityStats stats() const { return {}; }
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

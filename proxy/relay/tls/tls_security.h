// TLS 1.3 link security (RFC 8446): both relays prove their Ed25519 identity keys (RFC 8410
// certificates), pinned against the directory; OpenSSL runs over the relay's own streams through
// memory BIOs.
//
// What a link gets (docs/link-protocol.md, "Link security: TLS 1.3"):
// - TLS 1.3 only, mutual authentication: the listener requires the dialer's certificate. Each side
//   presents a self-signed certificate for its identity key; no certificate authority is involved.
//   The X.509 chain is not verified at all: the peer's raw Ed25519 key decides. Inbound, the key
//   must be a directory relay's, and that relay's name is the peer; outbound, it must be the key
//   the directory gives for the relay dialed. The peer's identity is the key it proved (TLS 1.3
//   CertificateVerify), never a name it sent; no hello frame is sent on these links.
// - A handshake that has not completed `handshake_timeout` after start() closes the stream.
// - Record sizes: each write() becomes its own TLS record(s) (one SSL_write per call, never
//   merged with another write, split only at the 16 KiB record limit), so every link frame of a
//   given size, whatever the batching, shows the same record size on the wire: frame + 22 bytes
//   (5 header, 1 inner content type, 16 AEAD tag). No record padding.
// - No session tickets or resumption: every link is a full handshake.
// - Failures (OpenSSL errors, refused keys, timeouts) close that one stream and are counted; they
//   never throw, and the OpenSSL error queue is cleared after each.
//
// Everything runs on the loop thread that owns the streams and the clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "crypto/identity.h"
#include "proxy/relay/core/link_security.h"

namespace veil::relay {

// The directory as the handshakes see it. Both lookups are asked during each handshake, so a
// directory change applies to the next link (existing links keep the identity they proved). They
// must not throw (an exception fails that one handshake) and must not touch the stream.
struct TlsPeers {
  // The identity key the directory gives for relay `name`; nullopt if there is no such relay.
  std::function<std::optional<crypto::IdentityPublicKey>(const std::string& name)> key_of;
  // The directory name (1..255 bytes) of the relay whose identity key is `key`; nullopt if none.
  std::function<std::optional<std::string>(const crypto::IdentityPublicKey& key)> name_of;
};

// What TlsSecurity counts: LinkSecurityStats (core/link_security.h).
using TlsStats = LinkSecurityStats;

struct TlsShared;  // the SSL context, clock, lookups and counters shared with the streams

class TlsSecurity final : public LinkSecurity {
 public:
  // `self`: this relay's identity key (copied into OpenSSL; `self` need not outlive this).
  // `clock`: arms the handshake timers; must outlive every stream made here.
  // `handshake_timeout`: µs from start() to a completed handshake (> 0).
  // Throws std::runtime_error (a startup error) if OpenSSL cannot load the key or make the
  // certificate.
  TlsSecurity(const crypto::IdentityKey& self, Clock& clock, Micros handshake_timeout,
              TlsPeers peers);
  ~TlsSecurity() override;
  TlsSecurity(const TlsSecurity&) = delete;
  TlsSecurity& operator=(const TlsSecurity&) = delete;

  // The TLS client end of a stream this relay dialed to directory relay `peer_name`. start()
  // sends the ClientHello; writes before the handshake completes are queued (pending_bytes())
  // and sent, in order, right after it. peer() is {peer_name, true} once the server proved
  // peer_name's key; the stream closes instead if it proved another key or none.
  std::shared_ptr<SecureStream> outbound(std::shared_ptr<Stream> raw,
                                         const std::string& peer_name) override;
  // The TLS server end of a stream a peer dialed. peer() is {the directory name of the key the
  // client proved, true} once the handshake completes, before any data is delivered.
  std::shared_ptr<SecureStream> inbound(std::shared_ptr<Stream> raw) override;

  // Stream contract details of both (core/stream.h otherwise):
  // - pause() during the handshake lets the handshake finish; data then waits for resume().
  // - resume() delivers data already decrypted or buffered on a later turn of the clock, never
  //   inside the call.
  // - on_end: the peer sent close_notify, or its stream ended after the handshake.
  // - close_when_flushed(): writes still queued behind the handshake go first, then close_notify,
  //   then the raw stream's close_when_flushed().
  // - pending_bytes(): plaintext queued behind the handshake plus the raw stream's pending bytes.
  // - The caller keeps the stream until its on_close ran; a stream dropped earlier closes its
  //   raw stream.

  LinkSecurityStats stats() const override;
  const crypto::IdentityPublicKey& public_key() const { return public_key_; }

 private:
  std::shared_ptr<TlsShared> shared_;
  crypto::IdentityPublicKey public_key_;
};

}  // namespace veil::relay

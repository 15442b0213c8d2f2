// A fake relay's end of a peer link on a blocking loopback socket, plain or TLS 1.3. The TLS end
// is the relay's own link security (TlsSecurity, identity keys pinned to the simulation's key
// directories), driven from the socket by the caller's threads under one lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "proxy/relay/core/link_security.h"
#include "proxy/sim/network.h"
#include "proxy/sim/socket.h"

namespace veil::relay {
class TlsSecurity;
}

namespace veil::bench {

// One fake relay's TLS identity: node `self`'s key from <dir>/<self>.keys (sim::write_directory
// makes it), the keys of `nodes` as its directory. Its clock never moves, so no handshake timeout
// fires. Shared by every link of that identity; throws std::runtime_error if a key cannot be read.
class LinkTls {
 public:
  LinkTls(const std::filesystem::path& dir, const std::vector<sim::RelayNode>& nodes,
          const std::string& self);
  ~LinkTls();
  LinkTls(const LinkTls&) = delete;
  LinkTls& operator=(const LinkTls&) = delete;
  relay::LinkSecurityStats stats();

 private:
  friend class LinkChannel;
  std::mutex mu_;  // every call into the TlsSecurity, its streams and the clock
  ManualClock clock_;
  std::unique_ptr<relay::TlsSecurity> tls_;
};

class SocketStream;

// Bytes to and from the peer over `socket` (not owned; it must outlive the channel). One thread
// may read while another writes.
class LinkChannel {
 public:
  // Plain TCP: bytes pass unchanged.
  explicit LinkChannel(sim::Socket& socket);
  // TLS: the client end to directory relay `dialed`, or the server end if `dialed` is empty. The
  // client's first flight is sent here; writes made before the handshake completes wait for it.
  LinkChannel(sim::Socket& socket, std::shared_ptr<LinkTls> tls, const std::string& dialed);
  ~LinkChannel();
  LinkChannel(const LinkChannel&) = delete;
  LinkChannel& operator=(const LinkChannel&) = delete;

  // Up to `n` bytes of data from the peer; 0 at its end, -1 on an error or a failed handshake.
  long recv_some(uint8_t* out, std::size_t n);
  bool send_all(ByteView bytes);
  // TLS: reads until the handshake completed on this end (data that came with it is kept for
  // recv_some); false if it failed or the peer went away. Plain: true.
  bool wait_established();
  // Ends the sending side: TLS close_notify, then the socket's write shutdown.
  void finish();

 private:
  bool flush();  // sends what the TLS end wrote, in order
  void pull();   // one read of the socket into the TLS end (reader thread)
  sim::Socket& socket_;
  std::shared_ptr<LinkTls> tls_;
  std::shared_ptr<SocketStream> raw_;
  std::shared_ptr<relay::SecureStream> secure_;
  std::mutex send_mu_;   // held while taking and sending the TLS end's output
  Bytes plain_;          // data decrypted and not yet returned (under tls_->mu_)
  std::size_t plain_pos_ = 0;
  bool ended_ = false;   // no more data will come (under tls_->mu_)
  bool clean_end_ = false;  // it ended with the peer's close_notify or end of stream
  std::vector<uint8_t> in_;
};

}  // namespace veil::bench

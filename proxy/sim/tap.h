// A link tap between two relays: forwards bytes both ways, records every packet frame with its
// arrival time (the global passive adversary's view), and can inject or tamper with packets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <vector>

#include "proxy/sim/accept_loop.h"
#include "proxy/sim/socket.h"

namespace veil::sim {

// One packet frame seen on a plain link, or one TLS record on a TLS link.
struct TappedPacket {
  std::chrono::steady_clock::time_point at;
  std::size_t frame_size = 0;  // plain: the whole frame body (type, sequence number, packet);
                               // TLS: the record's length field (what follows its 5-byte header)
  Bytes packet;                // plain: the packet alone; TLS: the whole record (empty unless
                               // recording bytes)
  uint8_t record_type = 0;     // TLS: the record's content type (23: application data)
};

class Tap {
 public:
  // Listens on a free port and forwards each accepted connection to 127.0.0.1:target_port.
  // `keep_bytes`: record packet bytes (else sizes and times only). `keep_streams`: also record
  // every byte seen in each direction (frame headers, hellos, acks), for byte scans.
  // `tls_records`: the link runs TLS; the tap forwards bytes unchanged and records each TLS
  // record of the forward direction (RFC 8446 §5.1) instead of link frames; the mutator sees
  // each record's payload, inject() and the filter do nothing.
  Tap(uint16_t target_port, bool keep_bytes, bool keep_streams = false, bool tls_records = false);
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;
  uint16_t port() const { return loop_.port(); }

  // Packets seen in the forward direction (dialer -> listener), in order.
  std::vector<TappedPacket> packets() const;
  std::size_t packet_count() const;
  // Sends `packet` again on the most recent connection, as a new frame (a replay).
  bool inject(ByteView packet);
  // Every forward packet frame passes through `f` before it is forwarded (may modify it).
  void set_mutator(std::function<void(Bytes& packet)> f);
  // A forward packet frame for which `keep` returns false is recorded but not forwarded (a link
  // attacker dropping it). Called after the mutator, on the forwarding thread and outside the
  // tap's lock, so it may also sleep to delay the link. An empty function forwards everything.
  void set_filter(std::function<bool(const Bytes& packet)> keep);
  // Connections accepted from now on are forwarded to 127.0.0.1:port (a relay restarted on
  // another port).
  void set_target(uint16_t port) { target_ = port; }
  // Every byte seen so far in one direction, connections appended in arrival order (empty
  // unless keep_streams). Forward bytes are recorded as the dialer sent them.
  Bytes stream_bytes(bool forward) const;
  void stop();

 private:
  void pump_forward(Socket& from, Socket& to);
  void pump_records(Socket& from, Socket& to);
  AcceptLoop loop_;
  std::atomic<uint16_t> target_;
  bool keep_bytes_;
  bool keep_streams_;
  bool tls_records_;
  mutable std::mutex mu_;
  std::vector<TappedPacket> packets_;
  std::function<void(Bytes&)> mutator_;
  std::function<bool(const Bytes&)> filter_;
  Bytes forward_stream_;
  Bytes backward_stream_;
  std::shared_ptr<Socket> last_upstream_;  // for inject(); the loop keeps every socket open
  uint64_t last_seq_ = 0;
};

}  // namespace veil::sim

// An in-memory connection for link-security tests: two Stream ends whose reads run() delivers
// (what one end wrote since the other's last read arrives as one read, as on TCP), every write
// recorded, an optional hook that alters bytes in flight, and the manual clock's due timers fired
// between deliveries.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "proxy/relay/core/stream.h"

namespace veil::tls_test {

class PipeEnd final : public relay::Stream {
 public:
  void start(Handlers h) override {
    h_ = std::move(h);
    started_ = true;
  }
  void pause() override { paused_ = true; }
  void resume() override { paused_ = false; }
  void write(std::span<const ByteView> pieces) override {
    if (closing_) return;
    Bytes chunk;
    for (ByteView p : pieces) append(chunk, p);
    if (chunk.empty()) return;
    writes.push_back(chunk);
    if (tamper) tamper(chunk);
    if (!other_->closing_) append(other_->inbox_, chunk);
  }
  void close() override {
    if (closing_) return;
    closing_ = true;
    other_->peer_closed_ = true;
  }
  void close_when_flushed() override { close(); }  // writes are never pending
  bool closed() const override { return closing_; }
  std::size_t pending_bytes() const override { return 0; }

  // One delivery (a read, the end, or the close notice); false if there was nothing to do.
  bool step() {
    if (closing_) {
      if (close_notified_) return false;
      close_notified_ = true;
      Handlers h = std::move(h_);
      h_ = {};
      if (h.on_close) h.on_close();
      return true;
    }
    if (!started_ || paused_ || ended_) return false;
    if (!inbox_.empty()) {
      Bytes chunk = std::move(inbox_);
      inbox_.clear();
      h_.on_data(chunk);
      return true;
    }
    if (peer_closed_) {
      ended_ = true;
      if (h_.on_end) {
        h_.on_end();
      } else {
        close();
      }
      return true;
    }
    return false;
  }
  bool close_notified() const { return close_notified_; }

  std::vector<Bytes> writes;            // every write, in order
  std::function<void(Bytes&)> tamper;   // sees (and may change) each write before it travels

 private:
  friend class Pipe;
  PipeEnd* other_ = nullptr;
  Handlers h_;
  Bytes inbox_;
  bool started_ = false;
  bool paused_ = false;
  bool ended_ = false;
  bool peer_closed_ = false;
  bool closing_ = false;
  bool close_notified_ = false;
};

class Pipe {
 public:
  explicit Pipe(ManualClock& clock) : clock_(clock) {
    dialer->other_ = listener.get();
    listener->other_ = dialer.get();
  }
  // Delivers reads, ends and close notices, and fires timers due now, until nothing is left.
  void run() {
    for (int guard = 0; guard < 100000; ++guard) {
      const bool dialer_moved = dialer->step();
      const bool listener_moved = listener->step();
      if (!dialer_moved && !listener_moved && clock_.next_deadline() > clock_.now()) return;
      clock_.set(clock_.now());
    }
  }
  std::shared_ptr<PipeEnd> dialer = std::make_shared<PipeEnd>();
  std::shared_ptr<PipeEnd> listener = std::make_shared<PipeEnd>();

 private:
  ManualClock& clock_;
};

}  // namespace veil::tls_test

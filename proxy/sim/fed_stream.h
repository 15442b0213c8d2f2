// A Stream whose reads the caller supplies (unit tests and fuzz targets of the link layers).
#pragma once

#include <span>

#include "proxy/relay/core/stream.h"

namespace veil::sim {

class FedStream final : public relay::Stream {
 public:
  void start(Handlers h) override { h_ = std::move(h); }
  void pause() override {}
  void resume() override {}
  void write(std::span<const ByteView>) override {}  // writes are dropped
  void close() override {
    if (closed_) return;
    closed_ = true;
    if (h_.on_close) h_.on_close();
  }
  void close_when_flushed() override { close(); }
  bool closed() const override { return closed_; }
  std::size_t pending_bytes() const override { return 0; }
  // One read of `b`.
  void feed(ByteView b) {
    if (!closed_) h_.on_data(b);
  }
  // The other side finished sending.
  void end() {
    if (!closed_ && h_.on_end) h_.on_end();
  }

 private:
  Handlers h_;
  bool closed_ = false;
};

}  // namespace veil::sim

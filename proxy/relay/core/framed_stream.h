// Length-prefixed frames (core/framing.h) over a Stream: the submit and deliver interfaces, and
// peer links above their security layer.
#pragma once

#include <functional>
#include <memory>

#include "base/bytes.h"
#include "base/error.h"
#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/stream.h"

namespace veil::relay {

// One framed connection. Owned through shared_ptr; stays alive until its close handler ran.
class FramedStream : public std::enable_shared_from_this<FramedStream> {
 public:
  using FrameHandler = std::function<void(FramedStream&, Bytes frame)>;
  using ErrorHandler = std::function<void(FramedStream&, Error why)>;  // frame error, before end
  using CloseHandler = std::function<void(FramedStream&)>;
  using ReadDoneHandler = std::function<void(FramedStream&)>;  // after the frames of one read
  // The peer closed its sending side, or sent an unusable frame: no more frames will come, but
  // answers may still be written. Without this handler the connection simply closes.
  using EndHandler = std::function<void(FramedStream&)>;

  // Frames above `max_frame` bytes are an error (`too_large`); a zero-length frame is a frame.
  static std::shared_ptr<FramedStream> create(std::shared_ptr<Stream> stream, std::size_t max_frame);

  // Starts reading; frames go to on_frame in order.
  void start(FrameHandler on_frame, ErrorHandler on_error, CloseHandler on_close,
             ReadDoneHandler on_read_done = nullptr, EndHandler on_end = nullptr);
  void pause() {
    paused_ = true;
    stream_->pause();
  }
  void resume();
  // Reading is paused (by pause(), or after a frame error or the end of input).
  bool paused() const { return paused_ || ended_; }
  // Frames delivered so far, and whether part of the next one has arrived.
  uint64_t frames() const { return frames_; }
  bool mid_frame() const { return decoder_.buffered() > 0; }
  // Queues header || a || b as one frame. Writes coalesce; never blocks.
  void send(ByteView body) { send2(body, {}); }
  void send2(ByteView a, ByteView b);
  // Queues bytes that are already a sequence of whole frames (header and body each).
  void send_frames(ByteView framed);
  std::size_t pending_bytes() const { return stream_->pending_bytes(); }
  void close() { stream_->close(); }
  void close_when_flushed() { stream_->close_when_flushed(); }
  bool closed() const { return stream_->closed(); }

  void* user = nullptr;  // owner's context
  // The stream under the frames (e.g. for its source address).
  const Stream& stream() const { return *stream_; }

 private:
  FramedStream(std::shared_ptr<Stream> stream, std::size_t max_frame)
      : stream_(std::move(stream)), decoder_(max_frame) {}
  void on_data(ByteView bytes);
  void end_of_input();
  void on_closed();

  std::shared_ptr<Stream> stream_;
  FrameDecoder decoder_;
  FrameHandler on_frame_;
  ErrorHandler on_error_;
  CloseHandler on_close_;
  ReadDoneHandler on_read_done_;
  EndHandler on_end_;
  bool ended_ = false;
  bool paused_ = false;
  uint64_t frames_ = 0;
  std::shared_ptr<FramedStream> self_;  // alive while the stream is open
};

}  // namespace veil::relay

// FramedStream: decodes frames from a stream's reads and writes header || body.
#include "proxy/relay/core/framed_stream.h"

#include <array>

namespace veil::relay {

std::shared_ptr<FramedStream> FramedStream::create(std::shared_ptr<Stream> stream,
                                                   std::size_t max_frame) {
  return std::shared_ptr<FramedStream>(new FramedStream(std::move(stream), max_frame));
}

void FramedStream::start(FrameHandler on_frame, ErrorHandler on_error, CloseHandler on_close,
                         ReadDoneHandler on_read_done, EndHandler on_end) {
  on_frame_ = std::move(on_frame);
  on_error_ = std::move(on_error);
  on_close_ = std::move(on_close);
  on_read_done_ = std::move(on_read_done);
  on_end_ = std::move(on_end);
  self_ = shared_from_this();
  stream_->start({[this](ByteView b) { on_data(b); }, [this] { end_of_input(); },
                  [this] { on_closed(); }});
}

void FramedStream::on_data(ByteView bytes) {
  if (closed() || ended_) return;
  auto keep = shared_from_this();
  decoder_.feed(bytes);
  while (!closed()) {
    auto next = decoder_.next();
    if (!next) {
      if (on_read_done_) on_read_done_(*this);  // hand over the good frames before this one
      if (on_error_) on_error_(*this, next.error());
      stream_->pause();
      end_of_input();
      return;
    }
    if (!next->has_value()) break;
    ++frames_;
    on_frame_(*this, std::move(**next));
  }
  if (!closed() && on_read_done_) on_read_done_(*this);
}

void FramedStream::end_of_input() {
  if (ended_ || closed()) return;
  ended_ = true;
  if (on_end_) {
    on_end_(*this);
  } else {
    stream_->close();
  }
}

void FramedStream::resume() {
  if (ended_) return;
  paused_ = false;
  stream_->resume();
}

void FramedStream::send2(ByteView a, ByteView b) {
  const auto head = frame_header(a.size() + b.size());
  const ByteView pieces[] = {ByteView(head), a, b};
  stream_->write(pieces);
}

void FramedStream::send_frames(ByteView framed) {
  const ByteView pieces[] = {framed};
  stream_->write(pieces);
}

void FramedStream::on_closed() {
  auto keep = std::move(self_);
  if (on_close_) on_close_(*this);
  on_frame_ = nullptr;
  on_error_ = nullptr;
  on_close_ = nullptr;
  on_read_done_ = nullptr;
  on_end_ = nullptr;
}

}  // namespace veil::relay

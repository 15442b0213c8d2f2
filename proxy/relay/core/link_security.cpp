// NullSecurity: the hello frame as the whole handshake; bytes pass through unchanged.
#include "proxy/relay/core/link_security.h"

#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/link_frame.h"

namespace veil::relay {
namespace {

class NullSecureStream final : public SecureStream {
 public:
  NullSecureStream(std::shared_ptr<Stream> raw, bool inbound, std::optional<PeerIdentity> peer,
                   Bytes hello)
      : raw_(std::move(raw)), inbound_(inbound), peer_(std::move(peer)), hello_(std::move(hello)) {}

  void start(Handlers h) override {
    up_ = std::move(h);
    raw_->start({[this](ByteView b) { on_data(b); }, [this] { on_end(); },
                 [this] { on_close(); }});
    if (!hello_.empty()) {
      const ByteView pieces[] = {ByteView(hello_)};
      raw_->write(pieces);
      hello_.clear();
    }
  }
  void pause() override { raw_->pause(); }
  void resume() override { raw_->resume(); }
  void write(std::span<const ByteView> pieces) override { raw_->write(pieces); }
  void close() override { raw_->close(); }
  void close_when_flushed() override { raw_->close_when_flushed(); }
  bool closed() const override { return raw_->closed(); }
  std::size_t pending_bytes() const override { return raw_->pending_bytes(); }
  std::optional<PeerIdentity> peer() const override { return peer_; }

 private:
  // Inbound only: holds back the first bytes until they are known to be a hello or not.
  void on_data(ByteView bytes) {
    if (!inbound_ || decided_) {
      up_.on_data(bytes);
      return;
    }
    append(head_, bytes);
    if (head_.size() < kFrameHeaderSize) return;
    const std::size_t len = static_cast<std::size_t>(head_[0]) << 24 |
                            static_cast<std::size_t>(head_[1]) << 16 |
                            static_cast<std::size_t>(head_[2]) << 8 | head_[3];
    const bool hello_length = len >= 2 && len <= 1 + kMaxHelloName;
    // A length no hello can have is decided at once (a bad frame is reported without delay).
    if (hello_length && head_.size() < kFrameHeaderSize + 1) return;
    const bool hello = hello_length && head_[4] == static_cast<uint8_t>(LinkFrameType::hello);
    std::size_t consumed = 0;
    if (hello) {
      if (head_.size() < kFrameHeaderSize + len) return;
      auto frame = decode_link_frame(ByteView(head_).subspan(kFrameHeaderSize, len), 0);
      if (frame) peer_ = PeerIdentity{frame->name, false};
      consumed = kFrameHeaderSize + len;
    }
    decided_ = true;
    Bytes rest(head_.begin() + static_cast<std::ptrdiff_t>(consumed), head_.end());
    head_.clear();
    head_.shrink_to_fit();
    if (!rest.empty()) up_.on_data(rest);
  }
  void on_end() {
    if (inbound_ && !decided_ && !head_.empty()) {
      decided_ = true;
      Bytes rest = std::move(head_);
      up_.on_data(rest);
    }
    if (up_.on_end) up_.on_end();
  }
  void on_close() {
    Handlers h = std::move(up_);
    up_ = {};
    if (h.on_close) h.on_close();
  }

  std::shared_ptr<Stream> raw_;
  bool inbound_;
  std::optional<PeerIdentity> peer_;
  Bytes hello_;  // outbound: the framed hello, written at start
  Handlers up_;
  bool decided_ = false;
  Bytes head_;
};

}  // namespace

std::shared_ptr<SecureStream> NullSecurity::outbound(std::shared_ptr<Stream> raw,
                                                     const std::string& peer_name) {
  return std::make_shared<NullSecureStream>(std::move(raw), false,
                                            PeerIdentity{peer_name, false},
                                            frame(encode_hello(self_name_)));
}

std::shared_ptr<SecureStream> NullSecurity::inbound(std::shared_ptr<Stream> raw) {
  return std::make_shared<NullSecureStream>(std::move(raw), true, std::nullopt, Bytes{});
}

}  // namespace veil::relay

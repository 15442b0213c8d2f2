// Plain and TLS link ends for the bench's fake relays (see bench_link.h).
#include "bench/relay/bench_link.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "proxy/relay/core/relay_keys.h"
#include "proxy/relay/tls/tls_security.h"

namespace veil::bench {

// The TLS end's view of the socket: writes collect in a buffer the channel sends; reads are what
// the channel feeds. Every call is made under LinkTls::mu_.
class SocketStream final : public relay::Stream {
 public:
  void start(Handlers h) override { h_ = std::move(h); }
  void pause() override {}  // the channel reads only when its caller asks
  void resume() override {}
  void write(std::span<const ByteView> pieces) override {
    if (closed_) return;
    for (ByteView p : pieces) append(out_, p);
  }
  void close() override { closed_ = true; }
  void close_when_flushed() override { closed_ = true; }  // the channel still sends out_
  bool closed() const override { return closed_; }
  std::size_t pending_bytes() const override { return out_.size(); }

  void feed(ByteView b) {
    if (!closed_ && h_.on_data) h_.on_data(b);
  }
  // The socket ended (`clean`: the peer shut down its side) or failed.
  void end(bool clean) {
    if (clean && !closed_ && h_.on_end) {
      h_.on_end();
    } else {
      closed_ = true;
    }
  }
  // Runs on_close once the stream closed, outside the call that closed it.
  void deliver_close() {
    if (!closed_ || close_delivered_) return;
    close_delivered_ = true;
    Handlers h = std::move(h_);
    h_ = {};
    if (h.on_close) h.on_close();
  }
  Bytes take() { return std::exchange(out_, Bytes{}); }

 private:
  Handlers h_;
  Bytes out_;
  bool closed_ = false;
  bool close_delivered_ = false;
};

namespace {

crypto::IdentityKey identity_in(const std::filesystem::path& dir, const std::string& name) {
  std::string why;
  auto id = relay::load_relay_identity((dir / (name + ".keys")).string(), &why);
  if (!id) throw std::runtime_error("bench link: key of " + name + ": " + why);
  return std::move(id->key);
}

}  // namespace

LinkTls::LinkTls(const std::filesystem::path& dir, const std::vector<sim::RelayNode>& nodes,
                 const std::string& self) {
  auto keys = std::make_shared<std::vector<std::pair<std::string, crypto::IdentityPublicKey>>>();
  for (const sim::RelayNode& n : nodes) keys->emplace_back(n.name, identity_in(dir, n.name).public_key());
  relay::TlsPeers peers{
      [keys](const std::string& name) -> std::optional<crypto::IdentityPublicKey> {
        for (const auto& [n, k] : *keys) {
          if (n == name) return k;
        }
        return std::nullopt;
      },
      [keys](const crypto::IdentityPublicKey& key) -> std::optional<std::string> {
        for (const auto& [n, k] : *keys) {
          if (k == key) return n;
        }
        return std::nullopt;
      }};
  tls_ = std::make_unique<relay::TlsSecurity>(identity_in(dir, self), clock_, 60'000'000, std::move(peers));
}

LinkTls::~LinkTls() = default;

relay::LinkSecurityStats LinkTls::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return tls_->stats();
}

LinkChannel::LinkChannel(sim::Socket& socket) : socket_(socket) {}

LinkChannel::LinkChannel(sim::Socket& socket, std::shared_ptr<LinkTls> tls, const std::string& dialed)
    : socket_(socket), tls_(std::move(tls)), in_(256 * 1024) {
  {
    std::lock_guard<std::mutex> lock(tls_->mu_);
    raw_ = std::make_shared<SocketStream>();
    secure_ = dialed.empty() ? tls_->tls_->inbound(raw_) : tls_->tls_->outbound(raw_, dialed);
    secure_->start({[this](ByteView b) { append(plain_, b); },
                    [this] {
                      ended_ = true;
                      clean_end_ = true;
                    },
                    [this] { ended_ = true; }});
    raw_->deliver_close();
  }
  flush();
}

LinkChannel::~LinkChannel() {
  if (!tls_) return;
  std::lock_guard<std::mutex> lock(tls_->mu_);
  secure_.reset();  // closes the raw stream if still open
  raw_.reset();
}

bool LinkChannel::flush() {
  std::lock_guard<std::mutex> sending(send_mu_);
  for (;;) {
    Bytes out;
    {
      std::lock_guard<std::mutex> lock(tls_->mu_);
      out = raw_->take();
    }
    if (out.empty()) return true;
    if (!socket_.send_all(out)) return false;
  }
}

void LinkChannel::pull() {
  const long r = socket_.recv_some(in_.data(), in_.size());
  {
    std::lock_guard<std::mutex> lock(tls_->mu_);
    if (r > 0) {
      raw_->feed(ByteView(in_.data(), static_cast<std::size_t>(r)));
    } else {
      raw_->end(r == 0);
      ended_ = true;  // whatever the TLS end made of it, nothing more comes
    }
    raw_->deliver_close();
  }
  flush();
}

long LinkChannel::recv_some(uint8_t* out, std::size_t n) {
  if (!tls_) return socket_.recv_some(out, n);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(tls_->mu_);
      if (plain_pos_ < plain_.size()) {
        const std::size_t k = std::min(n, plain_.size() - plain_pos_);
        std::copy_n(plain_.begin() + static_cast<std::ptrdiff_t>(plain_pos_), k, out);
        plain_pos_ += k;
        if (plain_pos_ == plain_.size()) {
          plain_.clear();
          plain_pos_ = 0;
        }
        return static_cast<long>(k);
      }
      if (ended_) return clean_end_ ? 0 : -1;
    }
    pull();
  }
}

bool LinkChannel::wait_established() {
  if (!tls_) return true;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(tls_->mu_);
      if (secure_->peer()) return true;
      if (ended_ || secure_->closed()) return false;
    }
    pull();
  }
}

bool LinkChannel::send_all(ByteView bytes) {
  if (!tls_) return socket_.send_all(bytes);
  {
    std::lock_guard<std::mutex> lock(tls_->mu_);
    if (secure_->closed()) return false;
    const ByteView pieces[] = {bytes};
    secure_->write(pieces);
    raw_->deliver_close();
  }
  return flush();
}

void LinkChannel::finish() {
  if (tls_) {
    {
      std::lock_guard<std::mutex> lock(tls_->mu_);
      secure_->close_when_flushed();
      raw_->deliver_close();
    }
    flush();
  }
  socket_.shutdown_write();
}

}  // namespace veil::bench

// TlsSecurity: OpenSSL's TLS 1.3 client and server driven through memory BIOs on the loop thread,
// with the peer's Ed25519 key checked against the directory in the certificate callback.
#include "proxy/relay/tls/tls_security.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <deque>
#include <stdexcept>

#include "proxy/relay/tls/tls_certificate.h"

namespace veil::relay {

struct TlsShared {
  TlsShared(Clock& c, Micros timeout, TlsPeers p)
      : clock(c), handshake_timeout(timeout), peers(std::move(p)) {}
  ~TlsShared() { SSL_CTX_free(ctx); }
  TlsShared(const TlsShared&) = delete;
  TlsShared& operator=(const TlsShared&) = delete;

  SSL_CTX* ctx = nullptr;
  Clock& clock;
  Micros handshake_timeout;
  TlsPeers peers;
  TlsStats stats;
};

namespace {

// Plaintext is taken from OpenSSL in pieces of at most one record.
constexpr std::size_t kReadPiece = 16384;

int verify_peer_certificate(X509_STORE_CTX* store, void* arg);

class TlsSecureStream final : public SecureStream,
                              public std::enable_shared_from_this<TlsSecureStream> {
 public:
  // `dialed`: the directory name dialed (outbound, TLS client); nullopt for inbound (server).
  TlsSecureStream(std::shared_ptr<TlsShared> shared, std::shared_ptr<Stream> raw,
                  std::optional<std::string> dialed)
      : shared_(std::move(shared)), raw_(std::move(raw)), dialed_(std::move(dialed)) {
    ssl_ = SSL_new(shared_->ctx);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      SSL_free(ssl_);
      ssl_ = nullptr;
      ERR_clear_error();
      return;
    }
    // An empty input BIO means "wait for more bytes", not end of stream.
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl_, in, out);  // the SSL owns both
    in_ = in;
    out_ = out;
    SSL_set_app_data(ssl_, this);
    if (dialed_) {
      SSL_set_connect_state(ssl_);
    } else {
      SSL_set_accept_state(ssl_);
    }
  }

  ~TlsSecureStream() override {
    if (!raw_->closed()) raw_->close();  // its handlers hold only a weak reference to this
    SSL_free(ssl_);
    ERR_clear_error();
  }

  void start(Handlers h) override {
    up_ = std::move(h);
    std::weak_ptr<TlsSecureStream> weak = weak_from_this();
    raw_->start({[weak](ByteView b) {
                   if (auto s = weak.lock()) s->on_raw_data(b);
                 },
                 [weak] {
                   if (auto s = weak.lock()) s->on_raw_end();
                 },
                 [weak] {
                   if (auto s = weak.lock()) s->on_raw_close();
                 }});
    if (ssl_ == nullptr) {
      count(&TlsStats::handshakes_failed);
      shut(false);
      return;
    }
    deadline_ = shared_->clock.timer([this] { on_deadline(); });
    later_ = shared_->clock.timer([this] { pump(); });
    deadline_->arm_at(shared_->clock.now() + shared_->handshake_timeout);
    advance_handshake();  // the client's first flight; nothing for the server yet
  }

  void pause() override {
    paused_ = true;
    if (established_ && !closed_) raw_->pause();
  }

  void resume() override {
    if (!paused_) return;
    paused_ = false;
    if (!established_ || closed_) return;
    raw_->resume();
    if (SSL_has_pending(ssl_) == 1 || BIO_ctrl_pending(in_) > 0 || end_due()) {
      later_->arm_at(shared_->clock.now());
    }
  }

  void write(std::span<const ByteView> pieces) override {
    if (closed_ || closing_) return;
    Bytes chunk;
    for (ByteView p : pieces) append(chunk, p);
    if (chunk.empty()) return;
    if (!established_) {
      queued_bytes_ += chunk.size();
      queued_.push_back(std::move(chunk));
      return;
    }
    write_records(chunk);
  }

  void close() override { shut(false); }

  void close_when_flushed() override {
    if (closed_ || closing_) return;
    closing_ = true;
    if (established_) finish();  // else once the handshake completes (or fails, or times out)
  }

  bool closed() const override { return closed_ || closing_ || raw_->closed(); }

  std::size_t pending_bytes() const override { return queued_bytes_ + raw_->pending_bytes(); }

  std::optional<PeerIdentity> peer() const override { return peer_; }

  // The certificate callback: decides whether the key in the peer's certificate is acceptable.
  bool accept_certificate(X509* cert) noexcept {
    try {
      const auto key = link_certificate_identity(cert);
      if (!key) {
        refusal_ = &TlsStats::peers_refused_unknown_key;
        return false;
      }
      if (dialed_) {
        const auto expected = shared_->peers.key_of
                                  ? shared_->peers.key_of(*dialed_)
                                  : std::optional<crypto::IdentityPublicKey>{};
        if (!expected) {
          refusal_ = &TlsStats::peers_refused_unknown_key;
          return false;
        }
        if (!(*expected == *key)) {
          refusal_ = &TlsStats::peers_refused_wrong_key;
          return false;
        }
        proven_name_ = *dialed_;
        return true;
      }
      auto name = shared_->peers.name_of ? shared_->peers.name_of(*key)
                                         : std::optional<std::string>{};
      if (!name || name->empty()) {
        refusal_ = &TlsStats::peers_refused_unknown_key;
        return false;
      }
      proven_name_ = std::move(*name);
      return true;
    } catch (...) {
      return false;  // a failed lookup fails this handshake only
    }
  }

 private:
  void on_raw_data(ByteView bytes) {
    if (closed_) return;
    std::size_t written = 0;
    if (!bytes.empty() && (BIO_write_ex(in_, bytes.data(), bytes.size(), &written) != 1 ||
                           written != bytes.size())) {
      count(&TlsStats::handshakes_failed);
      shut(false);
      return;
    }
    pump();
  }

  void on_raw_end() {
    if (closed_) return;
    raw_ended_ = true;
    if (!established_) {  // the peer stopped sending before the handshake finished
      count(&TlsStats::handshakes_failed);
      shut(false);
      return;
    }
    if (!paused_) pump();
  }

  void on_raw_close() {
    const bool by_us = closed_;
    closed_ = true;
    stop_timers();
    if (!by_us && !established_) count(&TlsStats::handshakes_failed);
    Handlers h = std::move(up_);
    up_ = {};
    if (h.on_close) h.on_close();  // may release this stream: the last thing done here
  }

  void on_deadline() {
    if (established_ || closed_) return;
    count(&TlsStats::handshakes_timed_out);
    shut(false);
  }

  // Moves the handshake on, then delivers what can be delivered.
  void pump() {
    if (closed_) return;
    if (!established_) {
      advance_handshake();
      if (!established_ || closed_) return;
    }
    if (!paused_) read_plaintext();
  }

  void advance_handshake() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    const int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    flush_out();  // the next flight, or our alert
    if (r == 1) {
      handshake_done();
    } else if (e != SSL_ERROR_WANT_READ) {
      count(refusal_ != nullptr ? refusal_ : &TlsStats::handshakes_failed);
      shut(true);
    }
  }

  void handshake_done() {
    // The certificate callback ran and accepted (a peer without a certificate never gets here:
    // SSL_VERIFY_FAIL_IF_NO_PEER_CERT, and TLS 1.3 servers always send one); check anyway.
    if (!proven_name_ || SSL_get0_peer_certificate(ssl_) == nullptr) {
      count(&TlsStats::handshakes_failed);
      shut(true);
      return;
    }
    established_ = true;
    count(&TlsStats::handshakes_completed);
    if (deadline_) deadline_->cancel();
    peer_ = PeerIdentity{*proven_name_, true};
    std::deque<Bytes> queued = std::move(queued_);
    queued_.clear();
    queued_bytes_ = 0;
    for (const Bytes& chunk : queued) {
      if (closed_) return;
      write_records(chunk);
    }
    if (closed_) return;
    if (paused_) raw_->pause();
    if (closing_) finish();
  }

  // Decrypts everything buffered and delivers it as one read; then the end, if it came.
  void read_plaintext() {
    Bytes plain;
    bool broken = false;
    for (;;) {
      const std::size_t before = plain.size();
      plain.resize(before + kReadPiece);
      std::size_t n = 0;
      ERR_clear_error();
      const int r = SSL_read_ex(ssl_, plain.data() + before, kReadPiece, &n);
      plain.resize(before + (r == 1 ? n : 0));
      if (r == 1) continue;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) {
        close_notify_ = true;
      } else if (e != SSL_ERROR_WANT_READ) {
        broken = true;  // a record that does not authenticate, an alert, a protocol error
      }
      break;
    }
    flush_out();  // answers to post-handshake messages (a KeyUpdate)
    auto keep = shared_from_this();
    if (!plain.empty() && up_.on_data) up_.on_data(plain);  // the good bytes before a bad record
    if (closed_) return;
    if (broken) {
      shut(true);
      return;
    }
    if (end_due() && !paused_) {
      end_delivered_ = true;
      if (up_.on_end) {
        up_.on_end();
      } else {
        close();
      }
    }
  }

  bool end_due() const { return (close_notify_ || raw_ended_) && !end_delivered_; }

  // One SSL_write: the chunk becomes its own record(s), never merged with another write.
  void write_records(ByteView chunk) {
    std::size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, chunk.data(), chunk.size(), &n) != 1 || n != chunk.size()) {
      flush_out();
      shut(true);
      return;
    }
    flush_out();
  }

  // Hands what OpenSSL wrote to the network BIO to the raw stream, as one write. The bytes are
  // read out of the BIO (which consumes them) rather than the BIO reset: a memory BIO's reset
  // zeroes its whole allocation, which costs more than the record.
  void flush_out() {
    const std::size_t len = BIO_ctrl_pending(out_);
    if (len == 0) return;
    out_buf_.resize(len);
    std::size_t got = 0;
    if (BIO_read_ex(out_, out_buf_.data(), len, &got) != 1 || got != len) return;
    const ByteView pieces[] = {ByteView(out_buf_.data(), got)};
    raw_->write(pieces);
  }

  // close_when_flushed() once established: close_notify after everything written, then close.
  void finish() {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    flush_out();
    ERR_clear_error();
    closed_ = true;
    stop_timers();
    raw_->close_when_flushed();
  }

  // Closes after a failure (`flush`: let an alert OpenSSL wrote go first) or on request.
  void shut(bool flush) {
    ERR_clear_error();
    if (closed_) return;
    closed_ = true;
    stop_timers();
    queued_.clear();
    queued_bytes_ = 0;
    if (flush) {
      raw_->close_when_flushed();
    } else {
      raw_->close();
    }
  }

  void stop_timers() {
    if (deadline_) deadline_->cancel();
    if (later_) later_->cancel();
  }

  void count(uint64_t TlsStats::*outcome) {
    if (counted_) return;
    counted_ = true;
    ++(shared_->stats.*outcome);
  }

  std::shared_ptr<TlsShared> shared_;
  std::shared_ptr<Stream> raw_;
  std::optional<std::string> dialed_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the peer, read by the SSL
  BIO* out_ = nullptr;  // ciphertext for the peer, written by the SSL
  Bytes out_buf_;        // flush_out's buffer, reused
  Handlers up_;
  std::unique_ptr<Timer> deadline_;  // the handshake timeout
  std::unique_ptr<Timer> later_;     // deliveries deferred by resume()
  std::optional<std::string> proven_name_;  // set by the certificate callback
  std::optional<PeerIdentity> peer_;        // set when the handshake completes
  uint64_t TlsStats::*refusal_ = nullptr;   // why the certificate callback refused
  std::deque<Bytes> queued_;                // writes waiting for the handshake, one per write()
  std::size_t queued_bytes_ = 0;
  bool established_ = false;
  bool paused_ = false;
  bool closing_ = false;  // close_when_flushed() called
  bool closed_ = false;   // no more reading or writing (closed by us or by the raw stream)
  bool raw_ended_ = false;
  bool close_notify_ = false;
  bool end_delivered_ = false;
  bool counted_ = false;  // a handshake outcome was counted
};

// Replaces X.509 chain verification: issuers, names and dates are ignored; the key is pinned.
int verify_peer_certificate(X509_STORE_CTX* store, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* stream = ssl != nullptr ? static_cast<TlsSecureStream*>(SSL_get_app_data(ssl)) : nullptr;
  if (stream != nullptr && stream->accept_certificate(X509_STORE_CTX_get0_cert(store))) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

TlsSecurity::TlsSecurity(const crypto::IdentityKey& self, Clock& clock, Micros handshake_timeout,
                         TlsPeers peers)
    : shared_(std::make_shared<TlsShared>(clock, handshake_timeout, std::move(peers))),
      public_key_(self.public_key()) {
  const auto fail = [](const char* what) {
    ERR_clear_error();
    throw std::runtime_error(std::string("TLS link security: ") + what);
  };
  PkeyPtr key = link_private_key(self);
  if (!key) fail("OpenSSL cannot load the Ed25519 identity key");
  X509Ptr cert = link_certificate(key.get());
  if (!cert) fail("OpenSSL cannot make the link certificate");
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) fail("OpenSSL cannot make a TLS context");
  shared_->ctx = ctx;
  const bool ok =
      SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
      SSL_CTX_use_certificate(ctx, cert.get()) == 1 && SSL_CTX_use_PrivateKey(ctx, key.get()) == 1 &&
      SSL_CTX_check_private_key(ctx) == 1 &&
      // No resumption: every link proves its key with a full handshake.
      SSL_CTX_set_num_tickets(ctx, 0) == 1;
  if (!ok) fail("OpenSSL refuses the link configuration");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // Both sides ask for the peer's certificate; the server fails a client that sends none.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verify_peer_certificate, nullptr);
  ERR_clear_error();
}

TlsSecurity::~TlsSecurity() = default;

std::shared_ptr<SecureStream> TlsSecurity::outbound(std::shared_ptr<Stream> raw,
                                                    const std::string& peer_name) {
  return std::make_shared<TlsSecureStream>(shared_, std::move(raw), peer_name);
}

std::shared_ptr<SecureStream> TlsSecurity::inbound(std::shared_ptr<Stream> raw) {
  return std::make_shared<TlsSecureStream>(shared_, std::move(raw), std::nullopt);
}

LinkSecurityStats TlsSecurity::stats() const { return shared_->stats; }

}  // namespace veil::relay

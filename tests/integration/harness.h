// Integration-test harness: the suite's deployment (relay-alpha -> [mix-1] -> relay-beta on
// loopback, proxy/sim/deployment.h) with an Inbox per provider, numbered messages and submitters.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/certificate.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/deployment.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/socket.h"
#include "relay.pb.h"

namespace veil::it {

using namespace std::chrono_literals;
using sim::Millis;

using sim::kAlpha;
using sim::kAlphaProvider;
using sim::kBeta;
using sim::kBetaProvider;
using sim::kMix;

using sim::counter;
using sim::rejected;
using sim::settled_counter;
using sim::wait_counter;
using sim::wait_until;
using sim::wall_ms;

// Message texts carry their number: "veil-it #<n>|" followed by `pad` filler bytes.
std::string message_text(std::size_t n, std::size_t pad = 0);
// The number of a message text; nullopt if it is not one.
std::optional<std::size_t> message_number(ByteView content);

// An SSv1 submission of message `n` from `from` to `to` (request_id = n).
relay::Submission v1_submission(const sim::Account& from, const sim::Account& to, std::size_t n,
                                 Rng& rng, std::size_t pad = 0,
                                 const std::string& destination = kBetaProvider);
// An SSv2 submission of message `n` to every account in `to` (combined access key).
relay::Submission v2_submission(const sim::Account& from, const std::vector<const sim::Account*>& to,
                                std::size_t n, Rng& rng, std::size_t pad = 0,
                                const std::string& destination = kBetaProvider);
// The size of the plaintext the submit stage builds from `s` (Payload.bundle of its named fields).
std::size_t payload_size(const relay::Submission& s);

// One submission on a fresh connection; the answer, or nullopt after `timeout` without one.
// `local_port` receives the connection's source port.
std::optional<relay::SubmitAnswer> submit_one(uint16_t port, const relay::Submission& s,
                                              Millis timeout = 5000ms,
                                              uint16_t* local_port = nullptr);

// A raw submit connection whose reads give up after `timeout` (recv then reports EOF/error).
sim::Socket raw_connection(uint16_t port, Millis timeout = 3000ms);
// The 4-byte length header of a frame of `len` bytes (any length, for malformed input).
Bytes header(uint32_t len);
// The next SubmitAnswer on `s`; nullopt on EOF, timeout or an unparsable frame.
std::optional<relay::SubmitAnswer> read_answer(sim::Socket& s);

// Pipelined submissions on one connection; answers are kept by request id.
class Submitter {
 public:
  explicit Submitter(uint16_t port);
  bool send(const relay::Submission& s);
  // Waits until every sent submission was answered; false on timeout.
  bool wait_answers(Millis timeout);
  std::size_t sent() const;
  std::map<uint64_t, relay::SubmitAnswer> answers() const;
  std::set<uint64_t> accepted() const;
  // Rejected request ids and their reasons.
  std::map<uint64_t, std::string> rejected() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, relay::SubmitAnswer> answers_;
  std::size_t sent_ = 0;
  std::size_t answered_ = 0;
  std::unique_ptr<sim::SubmitClient> client_;  // last: its reader thread uses the fields above
};

// A messenger server's view of its deliveries: every frame is checked (named fields only),
// each new delivery id is opened with the recipient's identity key under the given trust roots,
// and repeated frames must repeat the same delivery id with the same content.
class Inbox {
 public:
  struct Entry {
    relay::Delivery delivery;     // the first frame with this delivery id
    std::size_t message = 0;      // the message number inside the sealed content
    std::string sender_uuid;      // from the opened sender certificate
    int version = 0;              // sealed-sender version
  };
  Inbox(const sim::Provider& provider, std::vector<crypto::PublicKey> trust_roots);
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void on_delivery(const relay::Delivery& d);

  std::size_t frames() const;
  // Distinct (message, recipient) pairs received.
  std::size_t distinct() const;
  bool has(std::size_t message, const std::string& recipient) const;
  std::set<std::size_t> messages() const;
  std::size_t duplicate_frames() const;
  std::vector<Entry> entries() const;
  // Everything that went wrong (unopenable envelopes, unknown fields, reused/new ids for
  // duplicates, unknown recipients), one line each.
  std::vector<std::string> problems() const;

 private:
  const sim::Provider& provider_;
  std::map<std::string, const sim::Account*> by_uuid_;
  mutable std::mutex mu_;
  crypto::CertificateValidator validator_;
  std::size_t frames_ = 0;
  std::size_t duplicate_frames_ = 0;
  std::map<uint64_t, Entry> by_id_;
  std::map<std::pair<std::size_t, std::string>, uint64_t> by_key_;
  std::vector<std::string> problems_;
};

// Formats up to `max` problems for a failure message.
std::string describe(const std::vector<std::string>& problems, std::size_t max = 5);

// The suite's deployment: relay-alpha (provider alpha.example) -> [mix-1] -> relay-beta
// (provider beta.example). Every relay gets the suite's settings (4 KiB packets, no mixing,
// metrics every 50 ms, delivery retries after 500 ms) with `common` merged over them; an unclean
// relay exit is a test error; each provider's messenger stand-in feeds an Inbox. start() returns
// once every relay is ready (it does not wait for the peer links).
class Deployment : public sim::Deployment {
 public:
  // Without a mix, the providers' relays talk directly (one hop, pairwise layer).
  // `common` {"plain_links": false} runs TLS links (taps then record TLS records).
  explicit Deployment(const std::string& tag, const nlohmann::json& common = nlohmann::json::object(),
                      bool with_mix = true, const sim::DirectoryOptions& directory = {});
  ~Deployment();  // stops everything before the inboxes go

  Inbox& beta_inbox() { return beta_inbox_; }
  Inbox& alpha_inbox() { return alpha_inbox_; }

 private:
  Inbox beta_inbox_;
  Inbox alpha_inbox_;
};

}  // namespace veil::it

// Egress: validate a submission, rebuild it from its named fields, wrap it for its path, and put
// the packet into the mix. Nothing about the submitting connection is kept.
#include <algorithm>

#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "proxy/relay/relay.h"
#include "proxy/relay/relay_internal.h"
#include "relay.pb.h"

namespace veil::relay {

void Relay::on_submit_connection(std::shared_ptr<Connection> c) {
  metrics_.inc(Counter::submit_connections);
  std::erase_if(submitters_, [](const auto& w) { return w.expired(); });
  submitters_.push_back(c);
  c->start([this](Connection& conn, Bytes frame) { on_submit_frame(conn, std::move(frame)); },
           [this](Connection& conn, Error why) {
             metrics_.inc(Counter::submit_frames_malformed);
             veil::relay::SubmitAnswer a;
             a.set_status(veil::relay::SubmitAnswer::REJECTED);
             a.set_reason(std::string(error_name(why)));
             a.set_message("frame rejected; closing the connection");
             const std::string s = a.SerializeAsString();
             conn.send(as_bytes(s));
           },
           nullptr);
}

void Relay::on_submit_frame(Connection& c, Bytes frame) {
  uint64_t request_id = 0;
  const Error e = accept_submission(frame, request_id);
  veil::relay::SubmitAnswer a;
  a.set_request_id(request_id);
  if (e == Error::ok) {
    a.set_status(veil::relay::SubmitAnswer::ACCEPTED);
    metrics_.inc(Counter::submissions_accepted);
  } else {
    a.set_status(veil::relay::SubmitAnswer::REJECTED);
    a.set_reason(std::string(error_name(e)));
    a.set_message(std::string(error_message(e)));
    metrics_.reject(e);
  }
  const std::string s = a.SerializeAsString();
  c.send(as_bytes(s));
}

Error Relay::accept_submission(ByteView body, uint64_t& request_id) {
  veil::relay::Submission sub;
  if (body.size() > INT32_MAX || !sub.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Error::malformed;
  }
  request_id = sub.request_id();
  if (stopped_) return Error::busy;
  if (!sub.token().empty()) return Error::invalid_argument;  // tokens are not accepted yet
  if (sub.access_key().size() != 16) return Error::malformed;
  if (sub.envelope().empty()) return Error::malformed;

  // Destination: the provider relay that serves it.
  Peer* destination = nullptr;
  for (auto& p : peers_) {
    const auto& prov = p->config.providers;
    if (std::find(prov.begin(), prov.end(), sub.destination()) != prov.end()) {
      destination = p.get();
      break;
    }
  }
  if (destination == nullptr) return Error::unknown_destination;

  // Rebuild the bundle from the named fields only.
  veil::relay::Payload payload;
  auto* bundle = payload.mutable_bundle();
  const ByteView envelope = as_bytes(sub.envelope());
  const int nibble = envelope[0] >> 4;
  if (nibble <= 1) {
    if (sub.recipients_size() != 1) return Error::invalid_argument;
    const auto& r = sub.recipients(0);
    if (!crypto::ServiceId::parse(r.service_id())) return Error::invalid_service_id;
    if (r.devices_size() == 0) return Error::invalid_argument;
    for (uint32_t d : r.devices()) {
      if (d < 1 || d > 127) return Error::invalid_device_id;
    }
    auto* out = bundle->add_recipients();
    out->set_service_id(r.service_id());
    *out->mutable_devices() = r.devices();
  } else if (envelope[0] == crypto::kSentMessageVersion ||
             envelope[0] == crypto::kSentMessageLegacyVersion) {
    auto sent = crypto::SentMessage::parse(envelope);
    if (!sent) return sent.error();
    if (sent->recipients.empty()) return Error::invalid_argument;
    // The recipients travel inside the sent message; none are added beside it.
  } else {
    return Error::unknown_version;
  }
  bundle->set_access_key(sub.access_key());
  bundle->set_envelope(sub.envelope());
  const std::string plain = payload.SerializeAsString();

  // Path: mixes, then the destination's relay.
  std::vector<Peer*> path = choose_mixes(nullptr);
  path.push_back(destination);
  if (plain.size() > crypto::payload_capacity(config_.packet_size, path.size())) {
    return Error::too_large;
  }
  if (peer_load(*path.front()) >= config_.per_peer_queue) return Error::busy;
  auto packet = wrap_for(path, crypto::HopCommand::deliver, as_bytes(plain));
  if (!packet) return Error::internal;
  mix_add(path.front(), std::move(*packet), clock_.now());
  return Error::ok;
}

std::vector<Relay::Peer*> Relay::choose_mixes(const Peer* exclude) {
  std::vector<Peer*> mixes;
  for (auto& p : peers_) {
    if (p->config.is_mix() && p.get() != exclude) mixes.push_back(p.get());
  }
  std::vector<Peer*> path;
  if (mixes.empty()) return path;
  for (std::size_t i = 0; i < config_.mix_hops; ++i) {
    // Independent choice per hop, avoiding the same mix twice in a row.
    Peer* pick = nullptr;
    do {
      pick = mixes[rng_.uniform(mixes.size())];
    } while (mixes.size() > 1 && !path.empty() && pick == path.back());
    path.push_back(pick);
  }
  return path;
}

Result<Bytes> Relay::wrap_for(const std::vector<Peer*>& path, crypto::HopCommand command,
                              ByteView payload) {
  std::vector<crypto::Hop> hops;
  hops.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    crypto::Hop h;
    h.key = path[i] ? path[i]->config.epoch_key : epoch_key_.pub;
    h.id = path[i] ? path[i]->config.id : config_.id;
    if (i == 0 && path[i] && path[i]->send_key) h.pairwise = &*path[i]->send_key;
    hops.push_back(h);
  }
  return crypto::wrap_packet(hops, command, payload, config_.packet_size, rng_);
}

std::size_t Relay::peer_load(const Peer& p) const {
  return p.in_pool + p.unacked.size() + p.waiting.size();
}

}  // namespace veil::relay

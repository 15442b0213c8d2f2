// Egress: validate a submission, rebuild it from its named fields, wrap it for its path, and put
// the packet into the mix. Nothing about the submitting connection is kept.
#include <algorithm>

#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "proxy/relay/relay.h"
#include "proxy/relay/core/framing.h"
#include "proxy/relay/relay_internal.h"
#include "relay.pb.h"

namespace veil::relay {

void Relay::on_submit_connection(std::shared_ptr<Connection> c) {
  metrics_.inc(Counter::submit_connections);
  std::erase_if(submitters_, [](const auto& w) { return w.expired(); });
  submitters_.push_back(c);
  auto state = std::make_shared<SubmitState>();
  state->conn = c;
  submit_state_[c.get()] = state;
  c->start([this](Connection& conn, Bytes frame) { on_submit_frame(conn, std::move(frame)); },
           [this](Connection& conn, Error why) {
             metrics_.inc(Counter::submit_frames_malformed);
             veil::relay::SubmitAnswer a;
             a.set_status(veil::relay::SubmitAnswer::REJECTED);
             a.set_reason(std::string(error_name(why)));
             a.set_message("frame rejected; no further frames are read on this connection");
             const std::string s = a.SerializeAsString();
             conn.send(as_bytes(s));
           },
           [this](Connection& conn) {
             auto it = submit_state_.find(&conn);
             if (it != submit_state_.end()) {
               it->second->conn.reset();  // batches in flight keep their own reference
               submit_state_.erase(it);
             }
           },
           [this](Connection& conn) { on_submit_read_done(conn); },
           [this](Connection& conn) { on_submit_end(conn); });
}

Rng& worker_rng() {
  thread_local FastRng rng;
  return rng;
}

void Relay::on_submit_frame(Connection& c, Bytes frame) {
  auto it = submit_state_.find(&c);
  if (it == submit_state_.end()) return;
  SubmitState& st = *it->second;
  if (!st.building) {
    st.building = std::make_unique<SubmitBatch>();
    st.building->relay = this;
    st.building->state = it->second;
  }
  st.building->frames.push_back(std::move(frame));
}

void Relay::on_submit_read_done(Connection& c) {
  auto it = submit_state_.find(&c);
  if (it == submit_state_.end() || !it->second->building) return;
  SubmitState& st = *it->second;
  SubmitBatch* batch = st.building.get();
  st.in_flight.push_back(std::move(st.building));
  if (st.in_flight.size() >= static_cast<std::size_t>(kMaxBatchesInFlight)) c.pause();
  batch->req.data = batch;
  uv_queue_work(
      loop_, &batch->req,
      [](uv_work_t* req) {
        auto* b = static_cast<SubmitBatch*>(req->data);
        b->outcomes.reserve(b->frames.size());
        for (const Bytes& f : b->frames) {
          b->outcomes.push_back(b->relay->prepare_submission(f, worker_rng()));
        }
      },
      [](uv_work_t* req, int) {
        auto* b = static_cast<SubmitBatch*>(req->data);
        b->done = true;
        auto owner = b->state;  // keeps the state alive through finish_submissions
        b->relay->finish_submissions(*owner);
      });
}

void Relay::on_submit_end(Connection& c) {
  auto it = submit_state_.find(&c);
  if (it == submit_state_.end()) return;
  it->second->ended = true;
  if (it->second->in_flight.empty()) c.close_when_flushed();
}

void Relay::finish_submissions(SubmitState& state) {
  Bytes answers;
  while (!state.in_flight.empty() && state.in_flight.front()->done) {
    std::unique_ptr<SubmitBatch> batch = std::move(state.in_flight.front());
    state.in_flight.pop_front();
    for (SubmitOutcome& o : batch->outcomes) {
      if (o.error == Error::ok && (stopped_ || peer_load(*o.first) >= config_.per_peer_queue)) {
        o.error = Error::busy;
      }
      veil::relay::SubmitAnswer a;
      a.set_request_id(o.request_id);
      if (o.error == Error::ok) {
        mix_add(o.first, std::move(o.packet), clock_.now());
        a.set_status(veil::relay::SubmitAnswer::ACCEPTED);
        metrics_.inc(Counter::submissions_accepted);
      } else {
        a.set_status(veil::relay::SubmitAnswer::REJECTED);
        a.set_reason(std::string(error_name(o.error)));
        a.set_message(std::string(error_message(o.error)));
        metrics_.reject(o.error);
      }
      const std::string body = a.SerializeAsString();
      append(answers, frame_header(body.size()));
      append(answers, as_bytes(body));
    }
  }
  if (!state.conn || state.conn->closed()) return;
  if (!answers.empty()) state.conn->send_raw(answers);
  if (state.ended && state.in_flight.empty()) {
    state.conn->close_when_flushed();
  } else if (state.in_flight.size() < static_cast<std::size_t>(kMaxBatchesInFlight)) {
    state.conn->resume();
  }
}

Relay::SubmitOutcome Relay::prepare_submission(ByteView body, Rng& rng) const {
  SubmitOutcome out;
  veil::relay::Submission sub;
  if (body.size() > INT32_MAX || !sub.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    out.error = Error::malformed;
    return out;
  }
  out.request_id = sub.request_id();
  auto fail = [&out](Error e) {
    out.error = e;
    return out;
  };
  if (!sub.token().empty()) return fail(Error::invalid_argument);  // tokens are not accepted yet
  if (sub.access_key().size() != 16) return fail(Error::malformed);
  if (sub.envelope().empty()) return fail(Error::malformed);

  // Destination: the provider relay that serves it.
  Peer* destination = nullptr;
  for (const auto& p : peers_) {
    const auto& prov = p->config.providers;
    if (std::find(prov.begin(), prov.end(), sub.destination()) != prov.end()) {
      destination = p.get();
      break;
    }
  }
  if (destination == nullptr) return fail(Error::unknown_destination);

  // Rebuild the bundle from the named fields only.
  veil::relay::Payload payload;
  auto* bundle = payload.mutable_bundle();
  const ByteView envelope = as_bytes(sub.envelope());
  const int nibble = envelope[0] >> 4;
  if (nibble <= 1) {
    if (sub.recipients_size() != 1) return fail(Error::invalid_argument);
    const auto& r = sub.recipients(0);
    if (!crypto::ServiceId::parse(r.service_id())) return fail(Error::invalid_service_id);
    if (r.devices_size() == 0) return fail(Error::invalid_argument);
    for (uint32_t d : r.devices()) {
      if (d < 1 || d > 127) return fail(Error::invalid_device_id);
    }
    auto* rec = bundle->add_recipients();
    rec->set_service_id(r.service_id());
    *rec->mutable_devices() = r.devices();
  } else if (envelope[0] == crypto::kSentMessageVersion ||
             envelope[0] == crypto::kSentMessageLegacyVersion) {
    auto sent = crypto::SentMessage::parse(envelope);
    if (!sent) return fail(sent.error());
    if (sent->recipients.empty()) return fail(Error::invalid_argument);
    // The recipients travel inside the sent message; none are added beside it.
  } else {
    return fail(Error::unknown_version);
  }
  bundle->set_access_key(sub.access_key());
  bundle->set_envelope(sub.envelope());
  const std::string plain = payload.SerializeAsString();

  // Path: mixes, then the destination's relay.
  std::vector<Peer*> path = choose_mixes(nullptr, rng);
  path.push_back(destination);
  if (plain.size() > crypto::payload_capacity(config_.packet_size, path.size())) {
    return fail(Error::too_large);
  }
  auto packet = wrap_for(path, crypto::HopCommand::deliver, as_bytes(plain), rng);
  if (!packet) return fail(Error::internal);
  out.packet = std::move(*packet);
  out.first = path.front();
  return out;
}

std::vector<Relay::Peer*> Relay::choose_mixes(const Peer* exclude, Rng& rng) const {
  std::vector<Peer*> mixes;
  for (const auto& p : peers_) {
    if (p->config.is_mix() && p.get() != exclude) mixes.push_back(p.get());
  }
  std::vector<Peer*> path;
  if (mixes.empty()) return path;
  for (std::size_t i = 0; i < config_.mix_hops; ++i) {
    // Independent choice per hop, avoiding the same mix twice in a row.
    Peer* pick = nullptr;
    do {
      pick = mixes[rng.uniform(mixes.size())];
    } while (mixes.size() > 1 && !path.empty() && pick == path.back());
    path.push_back(pick);
  }
  return path;
}

Result<Bytes> Relay::wrap_for(const std::vector<Peer*>& path, crypto::HopCommand command,
                              ByteView payload, Rng& rng) const {
  std::vector<crypto::Hop> hops;
  hops.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    crypto::Hop h;
    h.key = path[i] ? path[i]->config.epoch_key : epoch_key_.pub;
    h.id = path[i] ? path[i]->config.id : config_.id;
    if (i == 0 && path[i] && path[i]->send_key) h.pairwise = &*path[i]->send_key;
    hops.push_back(h);
  }
  return crypto::wrap_packet(hops, command, payload, config_.packet_size, rng);
}

std::size_t Relay::peer_load(const Peer& p) const {
  return p.in_pool + p.unacked.size() + p.waiting.size();
}

}  // namespace veil::relay

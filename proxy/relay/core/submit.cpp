// Stage 1 of relay.h's path: submissions from the messenger server are parsed, stripped, padded
// and wrapped on workers, and answered in order once the journal holds what was accepted.
// Nothing about the submitting connection is kept with the packet.
#include "proxy/relay/core/relay_state.h"
#include "proxy/relay/core/submission.h"
#include "relay.pb.h"

namespace veil::relay {

void RelayState::on_submit_connection(std::shared_ptr<Stream> s) {
  if (stopped_ || draining_) {
    s->close();
    return;
  }
  if (!admit_submit_connection()) {
    s->close();
    return;
  }
  metrics_.inc(Counter::submit_connections);
  auto sc = std::make_shared<SubmitConn>();
  sc->conn = FramedStream::create(std::move(s), kMaxSubmitFrame);
  provider_->submits[sc->conn.get()] = sc;
  SubmitConn* raw = sc.get();
  std::weak_ptr<SubmitConn> weak = sc;
  sc->conn->start(
      [this, raw](FramedStream&, Bytes frame) { on_submit_frame(*raw, std::move(frame)); },
      [this, weak](FramedStream&, Error why) {
        metrics_.inc(Counter::submit_frames_malformed);
        veil::relay::SubmitAnswer a;
        a.set_status(veil::relay::SubmitAnswer::REJECTED);
        a.set_reason(std::string(error_name(why)));
        a.set_message("frame rejected; no further frames are read on this connection");
        // The last answer on this connection: after those of every submission before the bad
        // frame, which may still be on workers or waiting for a commit.
        if (auto conn_state = weak.lock()) {
          conn_state->final_answer = frame(as_bytes(a.SerializeAsString()));
          if (conn_state->batches.in_flight() == 0) flush_answers(*conn_state);
        }
      },
      [this](FramedStream& conn) {
        auto it = provider_->submits.find(&conn);
        if (it != provider_->submits.end()) {
          it->second->conn.reset();  // batches in flight keep the SubmitConn itself
          provider_->submits.erase(it);
        }
      },
      [this, weak](FramedStream&) {
        if (auto conn = weak.lock()) on_submit_read_done(conn);
      },
      [this, raw](FramedStream&) { on_submit_end(*raw); });
}

void RelayState::on_submit_frame(SubmitConn& sc, Bytes frame) {
  sc.batches.building().frames.push_back(std::move(frame));
}

void RelayState::on_submit_read_done(const std::shared_ptr<SubmitConn>& sc) {
  if (!sc->batches.has_building()) return;
  env_.rng.fill(sc->batches.building().seed);
  sc->batches.building().keys = keys_;
  SubmitConn* raw = sc.get();
  sc->batches.dispatch(
      env_.executor, sc,
      [this](SubmitBatch& b) {
        SeededRng rng(b.seed);
        wipe(b.seed);
        b.outcomes.reserve(b.frames.size());
        for (const Bytes& f : b.frames) b.outcomes.push_back(prepare_submission(f, *b.keys, rng));
      },
      [this, raw](SubmitBatch& b) { finish_submissions(*raw, b); },
      [this, raw] { flush_answers(*raw); });
  if (sc->batches.full() && sc->conn) sc->conn->pause();
}

// The submitter finished sending: close once every answer is out. Answers wait for the journal's
// commit, so the close is queued behind them; with batches still in flight, the last completion
// closes (flush_answers).
void RelayState::on_submit_end(SubmitConn& sc) {
  sc.ended = true;
  if (sc.batches.in_flight() != 0 || !sc.conn) return;
  std::shared_ptr<FramedStream> conn = sc.conn;
  send_answers(sc, [conn] {
    if (!conn->closed()) conn->close_when_flushed();
  });
}

SubmitOutcome RelayState::prepare_submission(ByteView body, const RelayKeys& keys, Rng& rng) const {
  SubmitOutcome out;
  ParsedSubmission parsed = parse_submission(body, peer_configs_);
  out.request_id = parsed.request_id;
  out.error = parsed.error;
  if (out.error != Error::ok) return out;
  // Path: mixes, then the destination's relay.
  std::vector<Peer*> path = choose_mixes(keys, rng);
  if (mixes_unkeyed(path)) {  // no mix publishes a key for this epoch: never unmixed
    out.error = Error::unknown_destination;
    return out;
  }
  path.push_back(peers_[parsed.destination].get());
  if (parsed.payload.size() > crypto::payload_capacity(config_.packet_size, path.size())) {
    out.error = Error::too_large;
    return out;
  }
  auto packet = wrap_for(keys, path, crypto::HopCommand::deliver, as_bytes(parsed.payload), rng);
  if (!packet) {
    out.error = packet.error() == Error::unknown_destination ? packet.error() : Error::internal;
    return out;
  }
  out.packet = std::move(*packet);
  out.first = path.front();
  out.destination = path.back();
  return out;
}

// Runs per batch, in order: accepted packets enter the mix (and the journal); answers collect.
void RelayState::finish_submissions(SubmitConn& sc, SubmitBatch& batch) {
  for (SubmitOutcome& o : batch.outcomes) {
    if (o.error == Error::ok) o.error = admit(*o.first);
    if (o.error == Error::ok && !take_submit_token(*o.destination)) o.error = Error::busy;
    veil::relay::SubmitAnswer a;
    a.set_request_id(o.request_id);
    if (o.error == Error::ok) {
      mix_add(o.first, std::move(o.packet), env_.clock.now());
      sc.accepted = true;
      a.set_status(veil::relay::SubmitAnswer::ACCEPTED);
      metrics_.inc(Counter::submissions_accepted);
    } else {
      a.set_status(veil::relay::SubmitAnswer::REJECTED);
      a.set_reason(std::string(error_name(o.error)));
      a.set_message(std::string(error_message(o.error)));
      metrics_.reject(o.error);
    }
    const std::string body = a.SerializeAsString();
    append(sc.answers, frame_header(body.size()));
    append(sc.answers, as_bytes(body));
  }
}

// Answers that accept something go out once the journal made it durable; answers that do not
// go out at once, unless earlier answers of the connection still wait (the order is kept).
void RelayState::send_answers(SubmitConn& sc, std::function<void()> send) {
  const bool wait = sc.accepted || *sc.behind_commits > 0;
  sc.accepted = false;
  if (!wait) {
    send();
    return;
  }
  ++*sc.behind_commits;
  journal_commit([behind = sc.behind_commits, send = std::move(send)] {
    --*behind;
    send();
  });
}

// After a completion: this completion's answers, and the connection's end once all are out.
void RelayState::flush_answers(SubmitConn& sc) {
  Bytes answers = std::move(sc.answers);
  sc.answers.clear();
  const bool drained = sc.batches.in_flight() == 0;
  if (drained && !sc.final_answer.empty()) {
    append(answers, sc.final_answer);
    sc.final_answer.clear();
  }
  std::shared_ptr<FramedStream> conn = sc.conn;
  const bool close = sc.ended && drained;
  send_answers(sc, [conn, answers = std::move(answers), close] {
    if (!conn || conn->closed()) return;
    if (!answers.empty()) conn->send_frames(answers);
    if (close) conn->close_when_flushed();
  });
  if (!close && sc.conn && !sc.conn->closed() && !sc.batches.full()) sc.conn->resume();
}

// Whether a valid submission can be taken now.
Error RelayState::admit(const Peer& first) const {
  if (stopped_ || draining_) return Error::draining;
  if (env_.journal.failing()) return Error::unavailable;  // it might not be written
  if (peer_load(first) >= config_.per_peer_queue) return Error::busy;
  return Error::ok;
}

bool RelayState::mixes_unkeyed(const std::vector<Peer*>& chosen) const {
  if (chosen.size() >= config_.mix_hops) return false;
  for (const auto& p : peers_) {
    if (p->config.is_mix()) return true;  // there are mixes, but none has a key for the epoch
  }
  return false;  // no other mix at all (a mix's own covers go straight to a provider)
}

std::vector<Peer*> RelayState::choose_mixes(const RelayKeys& keys, Rng& rng) const {
  const uint64_t epoch = keys.epochs->current;
  std::vector<Peer*> mixes;
  for (const auto& p : peers_) {
    if (p->config.is_mix() && keys.published_key(*p, epoch) != nullptr) mixes.push_back(p.get());
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

// Pads and wraps `payload` for `path` (a null entry is this relay: a loop's last hop).
// Every layer is under the current epoch of `keys`.
Result<Bytes> RelayState::wrap_for(const RelayKeys& keys, const std::vector<Peer*>& path,
                                   crypto::HopCommand command, ByteView payload, Rng& rng) const {
  const uint64_t epoch = keys.epochs->current;
  std::vector<crypto::Hop> hops;
  hops.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    crypto::Hop h;
    h.epoch = epoch;
    if (path[i] != nullptr) {
      const crypto::PublicKey* key = keys.published_key(*path[i], epoch);
      if (key == nullptr) return Error::unknown_destination;
      h.key = *key;
      h.id = path[i]->config.id;
      if (const PairKeys* pair = i == 0 ? keys.pair(*path[i], epoch) : nullptr) h.pairwise = &pair->send;
    } else {
      const crypto::KeyPair* own = keys.epochs->key(epoch);
      if (own == nullptr) return Error::unknown_destination;
      h.key = own->pub;
      h.id = config_.id;
    }
    hops.push_back(h);
  }
  return crypto::wrap_packet(hops, command, payload, config_.packet_size, rng);
}

std::size_t RelayState::peer_load(const Peer& p) const {
  return p.in_pool + p.unacked.size() + p.waiting.size();
}

}  // namespace veil::relay

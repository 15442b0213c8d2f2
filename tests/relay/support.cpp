// The in-process suite's world builder, recording journal and frame reader.
#include "support.h"

#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/link_frame.h"

namespace veil::relay_test {

void declare_world(sim::InProcessWorld& w, bool with_mix, const Tune& alpha, const Tune& mix,
                   const Tune& beta, std::size_t users, relay::Journal* alpha_journal,
                   relay::Journal* beta_journal) {
  w.add_provider(kAlphaProvider, users);
  w.add_provider(kBetaProvider, users);
  w.add_relay(kAlpha, kAlphaProvider,
              [&](relay::RelayConfig& c) {
                c.mix_hops = with_mix ? 1 : 0;
                if (alpha) alpha(c);
              },
              alpha_journal);
  if (with_mix) w.add_relay(kMix, "", mix);
  w.add_relay(kBeta, kBetaProvider, beta, beta_journal);
}

relay::Submission message_to_beta(sim::InProcessWorld& w, uint64_t n, std::size_t to) {
  const sim::Account& from = w.provider(kAlphaProvider).accounts.at(0);
  const sim::Account& rcpt = w.provider(kBetaProvider).accounts.at(to);
  const std::string text = "message #" + std::to_string(n);
  return sim::v1_submission(from, rcpt, as_bytes(text), w.rng, n, kBetaProvider);
}

void TestJournal::record(uint64_t item, const crypto::RelayId& next_hop,
                         relay::WallMicros release_at, ByteView packet) {
  ++records;
  staged_.push_back([this, item, p = Packet{next_hop, release_at, Bytes(packet.begin(), packet.end())}] {
    packets[item] = p;
  });
}

void TestJournal::record_release(uint64_t item, relay::WallMicros release_at) {
  staged_.push_back([this, item, release_at] {
    if (auto it = packets.find(item); it != packets.end()) it->second.release_at = release_at;
  });
}

void TestJournal::forget(uint64_t item) {
  if (item == 0) return;
  ++forgets;
  forgotten.push_back(item);
  staged_.push_back([this, item] { packets.erase(item); });
}

void TestJournal::record_delivery(uint64_t id, ByteView delivery) {
  ++delivery_records;
  staged_.push_back([this, id, d = Bytes(delivery.begin(), delivery.end())] { deliveries[id] = d; });
}

void TestJournal::forget_delivery(uint64_t id) {
  ++delivery_forgets;
  staged_.push_back([this, id] { deliveries.erase(id); });
}

void TestJournal::record_replay_tag(uint64_t epoch, const relay::ReplayTag& tag) {
  ++tag_records;
  staged_.push_back([this, epoch, tag] { tags[epoch].push_back(tag); });
}

void TestJournal::forget_replay_epochs_before(uint64_t epoch) {
  staged_.push_back([this, epoch] { tags.erase(tags.begin(), tags.lower_bound(epoch)); });
}

void TestJournal::record_checkpoint(const relay::JournalCheckpoint& c) {
  staged_.push_back([this, c] { checkpoint = c; });
}

void TestJournal::commit(std::function<void()> durable) {
  ++commits;
  Commit c{std::move(staged_), std::move(durable)};
  staged_.clear();
  if (holding_ || failing_ || !held_.empty()) {
    held_.push_back(std::move(c));
  } else {
    finish(c);
  }
}

void TestJournal::finish(Commit& c) {
  for (auto& op : c.ops) op();
  if (c.durable) c.durable();
}

void TestJournal::fail(bool on) {
  failing_ = on;
  if (!on && !holding_) release();
}

relay::JournalCheckpoint TestJournal::recover(const RecoverFns& fns) {
  for (const auto& [epoch, list] : tags) {
    for (const auto& t : list) fns.replay_tag(epoch, t);
  }
  const auto live_packets = packets;
  for (const auto& [item, p] : live_packets) {
    fns.packet(relay::RecoveredPacket{item, p.next_hop, p.release_at, p.packet});
  }
  const auto live_deliveries = deliveries;
  for (const auto& [id, d] : live_deliveries) fns.delivery(id, d);
  return checkpoint;
}

std::size_t TestJournal::release() {
  std::size_t n = 0;
  while (!held_.empty() && !failing_) {
    Commit c = std::move(held_.front());
    held_.erase(held_.begin());
    finish(c);
    ++n;
  }
  return n;
}

std::vector<SeenFrame> frames_in(const std::vector<Bytes>& writes) {
  relay::FrameDecoder decoder(1u << 20);
  std::vector<SeenFrame> out;
  for (const Bytes& w : writes) {
    decoder.feed(w);
    for (;;) {
      auto next = decoder.next();
      if (!next || !next->has_value()) break;
      SeenFrame f;
      f.body = std::move(**next);
      f.type = f.body.empty() ? 0 : f.body[0];
      if (f.body.size() >= relay::kLinkHeaderSize) f.seq = relay::get_u64(f.body.data() + 1);
      out.push_back(std::move(f));
    }
  }
  return out;
}

void Wire::watch(sim::InProcessWorld& w, const std::string& name) {
  const std::string target = sim::MemoryNetwork::key(w.node(name).config.peer_listen);
  ManualClock* clock = &w.clock;
  w.net.observe([this, target, clock](const std::string& ep, bool from_dialer, ByteView b) {
    if (ep != target || !from_dialer) return;
    writes.emplace_back(b.begin(), b.end());
    times.push_back(clock->now());
  });
}

std::vector<SeenFrame> Wire::packets() const {
  std::vector<SeenFrame> out;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    for (auto& f : frames_in({writes[i]})) {
      if (f.type != static_cast<uint8_t>(relay::LinkFrameType::packet)) continue;
      f.at = times[i];
      out.push_back(std::move(f));
    }
  }
  return out;
}

Attacker::Attacker(sim::InProcessWorld& w, const std::string& claim) {
  dialer = w.net.dialer(w.node(kBeta).config.peer_listen, [this](std::shared_ptr<relay::Stream> s) {
    dialer->stop();
    stream = std::move(s);
    stream->start({[](ByteView) {}, [this] { ended = true; }, [] {}});
  });
  dialer->start();
  w.settle();
  if (!claim.empty()) send(relay::encode_hello(claim));
}

void Attacker::send(ByteView body) {
  const Bytes f = relay::frame(body);
  const ByteView pieces[] = {ByteView(f)};
  stream->write(pieces);
}

std::multiset<Micros> send_times(const Wire& wire) {
  std::multiset<Micros> out;
  for (const auto& p : wire.packets()) out.insert(p.at);
  return out;
}

Micros mono(sim::InProcessWorld& w, relay::WallMicros t) { return t - (w.clock.wall_us() - w.clock.now()); }

}  // namespace veil::relay_test

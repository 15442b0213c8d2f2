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

void TestJournal::record(uint64_t item, const crypto::RelayId& next_hop, ByteView packet) {
  ++records;
  packets[item] = {next_hop, Bytes(packet.begin(), packet.end())};
}

void TestJournal::forget(uint64_t item) {
  ++forgets;
  forgotten.push_back(item);
  packets.erase(item);
}

void TestJournal::record_delivery(uint64_t id, ByteView delivery) {
  ++delivery_records;
  deliveries[id] = Bytes(delivery.begin(), delivery.end());
}

void TestJournal::forget_delivery(uint64_t id) {
  ++delivery_forgets;
  deliveries.erase(id);
}

void TestJournal::commit(std::function<void()> durable) {
  ++commits;
  if (holding_) {
    held_.push_back(std::move(durable));
  } else {
    durable();
  }
}

void TestJournal::recover(const PacketFn& packet, const DeliveryFn& delivery) {
  const auto live_packets = packets;
  for (const auto& [item, entry] : live_packets) packet(item, entry.first, entry.second);
  const auto live_deliveries = deliveries;
  for (const auto& [id, d] : live_deliveries) delivery(id, d);
}

std::size_t TestJournal::release() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& f : held) f();
  return held.size();
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

}  // namespace veil::relay_test

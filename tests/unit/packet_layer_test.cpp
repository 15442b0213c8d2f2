// Packet layers: known answers cross-checked by the node reference, bit flips, sizes, unlinkability.
#include <boost/test/unit_test.hpp>

#include <sodium.h>

#include <set>
#include <string>
#include <vector>

#include "crypto/kdf.h"
#include "crypto/packet_layer.h"
#include "test_support.h"
#include "vectors/packet_layer_vectors.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;
namespace pv = veil::test::packet_vectors;

namespace {

std::string sha256_hex(ByteView b) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), b.data(), b.size());
  return hexs(h);
}

Bytes payload_of(std::size_t len) {
  Bytes b(len);
  for (std::size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(i * 31 + 7);
  return b;
}

RelayId id_from_hex(std::string_view hex) {
  RelayId id{};
  const Bytes b = unhex(hex);
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

int cmd(HopCommand c) { return static_cast<int>(c); }

// The relays of the vectors: entry, hop1, hop2, hop3, and K for entry -> hop1.
struct World {
  std::vector<KeyPair> keys;
  std::vector<RelayId> ids;
  PairwiseKey k;
  World() {
    for (const auto& r : pv::kRelays) {
      keys.push_back(test::key_pair_from_hex(r.private_hex));
      ids.push_back(id_from_hex(r.id_hex));
    }
    const Bytes kb = unhex(pv::kPairwiseKey);
    std::copy(kb.begin(), kb.end(), k.key.begin());
  }
  // Hop i of the onion path hop1, hop2, hop3 (relay i + 1).
  Hop hop(std::size_t i, uint64_t epoch = pv::kEpoch) const {
    return Hop{keys[i + 1].pub, ids[i + 1], nullptr, epoch};
  }
  std::vector<Hop> path(std::size_t n, bool pairwise_first) const {
    std::vector<Hop> p;
    for (std::size_t i = 0; i < n; ++i) p.push_back(hop(i));
    if (pairwise_first) p[0].pairwise = &k;
    return p;
  }
  // The path of a vector, with each hop in the epoch the reference recorded.
  std::vector<Hop> path(const pv::Vector& v) const {
    std::vector<Hop> p = path(v.hops, v.pairwise_first);
    for (std::size_t i = 0; i < v.hops; ++i) p[i].epoch = v.layers[i].epoch;
    return p;
  }
  // Removes the layer of hop i (pairwise for hop 0 when asked).
  Result<Unwrapped> unwrap(ByteView packet, std::size_t i, bool pairwise) const {
    return pairwise && i == 0 ? unwrap_pairwise(packet, k) : unwrap_onion(packet, keys[i + 1]);
  }
};

const World& world() {
  static const World w;
  return w;
}

// Unwraps `packet` through all layers of `v`, checking each against the reference's record.
void check_layers(const pv::Vector& v, const Bytes& packet) {
  const World& w = world();
  Bytes cur = packet;
  for (std::size_t i = 0; i < v.hops; ++i) {
    BOOST_TEST_CONTEXT(v.name << " hop " << i + 1) {
      const pv::Layer& want = v.layers[i];
      BOOST_TEST(sha256_hex(cur) == want.input_sha256);
      BOOST_TEST(layer_epoch_parity(cur) == (want.epoch & 1));
      auto u = w.unwrap(cur, i, v.pairwise_first);
      BOOST_TEST_REQUIRE(u.ok());
      BOOST_TEST(cmd(u->command) == int{want.command});
      BOOST_TEST(hexs(u->replay_tag) == want.replay_tag);
      BOOST_TEST(hexs(u->next_hop) == want.next_hop);
      if (i + 1 < v.hops) BOOST_TEST(u->inner.size() == v.packet_size);
      cur = std::move(u->inner);
    }
  }
  BOOST_TEST(cur == payload_of(v.payload_len));
}

Bytes wrap_or_fail(std::span<const Hop> path, HopCommand c, ByteView payload, std::size_t size,
                   Rng& rng) {
  auto r = wrap_packet(path, c, payload, size, rng);
  BOOST_TEST_REQUIRE(r.ok(), "wrap failed: " << error_name(r.error()));
  return std::move(*r);
}

// An authentic pairwise layer under K with plaintext M (the spec, composed by hand here).
Bytes seal_pairwise_raw(const PairwiseKey& k, ByteView m, uint8_t head_byte = 0x42) {
  Bytes packet(kPacketHeadSize + kPacketTagSize + m.size());
  std::fill_n(packet.begin(), kPacketHeadSize, head_byte);
  std::array<uint8_t, 80> okm{};
  hkdf_sha256({ByteView(k.key), ByteView(packet).first(kPacketHeadSize)},
              as_bytes("veil/pairwise/packet/v1"), as_bytes("layer"), okm);
  const uint8_t nonce[12] = {};
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(packet.data() + 48, packet.data() + 32,
                                                     nullptr, m.data(), m.size(), packet.data(),
                                                     32, nullptr, nonce, okm.data());
  return packet;
}

// M = routing(command, next_hop byte, reserved byte) || len || zeros, for P = 512.
Bytes plaintext(uint8_t command, uint8_t next_hop_byte, uint8_t reserved_byte, uint32_t len) {
  Bytes m(512 - 48, 0);
  m[0] = command;
  m[1] = next_hop_byte;
  m[31] = reserved_byte;
  for (int i = 0; i < 4; ++i) m[32 + static_cast<std::size_t>(i)] = static_cast<uint8_t>(len >> (24 - 8 * i));
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_layer)

BOOST_AUTO_TEST_CASE(relay_keys_match_the_reference) {
  const World& w = world();
  for (std::size_t i = 0; i < pv::kRelays.size(); ++i) {
    BOOST_TEST(hexs(w.keys[i].pub.raw()) == pv::kRelays[i].public_hex);
  }
}

BOOST_AUTO_TEST_CASE(pairwise_key_known_answer_both_ends) {
  const World& w = world();
  auto sender = derive_pairwise_key(w.keys[0], w.keys[1].pub, true, pv::kEpoch);
  auto receiver = derive_pairwise_key(w.keys[1], w.keys[0].pub, false, pv::kEpoch);
  BOOST_TEST_REQUIRE(sender.ok());
  BOOST_TEST_REQUIRE(receiver.ok());
  BOOST_TEST(hexs(sender->key) == pv::kPairwiseKey);
  BOOST_TEST(hexs(receiver->key) == pv::kPairwiseKey);
  auto reverse = derive_pairwise_key(w.keys[1], w.keys[0].pub, true, pv::kEpoch);
  BOOST_TEST(hexs(reverse->key) == pv::kPairwiseKeyReverse);
  auto next_epoch = derive_pairwise_key(w.keys[0], w.keys[1].pub, true, pv::kEpoch + 1);
  BOOST_TEST(hexs(next_epoch->key) != pv::kPairwiseKey);
}

BOOST_AUTO_TEST_CASE(pairwise_key_rejects_low_order_peer) {
  auto r = derive_pairwise_key(world().keys[0], PublicKey::from_raw(Bytes(32, 0)), true, 1);
  BOOST_TEST(r.error() == Error::invalid_key_agreement);
}

BOOST_AUTO_TEST_CASE(wrap_reproduces_reference_packets) {
  const World& w = world();
  for (const pv::Vector& v : pv::kCppWrap) {
    BOOST_TEST_CONTEXT(v.name) {
      SeededRng rng(v.seed);
      const auto path = w.path(v);
      const Bytes packet = wrap_or_fail(path, static_cast<HopCommand>(v.final_command),
                                        payload_of(v.payload_len), v.packet_size, rng);
      BOOST_TEST(packet.size() == v.packet_size);
      BOOST_TEST(sha256_hex(packet) == v.packet_sha256);
      if (!v.packet_hex.empty()) BOOST_TEST(hexs(packet) == v.packet_hex);
      check_layers(v, packet);
    }
  }
}

BOOST_AUTO_TEST_CASE(unwrap_accepts_reference_packets) {
  for (const pv::Vector& v : pv::kRefWrap) {
    BOOST_TEST_CONTEXT(v.name) {
      const Bytes packet = unhex(v.packet_hex);
      BOOST_TEST(packet.size() == v.packet_size);
      BOOST_TEST(sha256_hex(packet) == v.packet_sha256);
      check_layers(v, packet);
    }
  }
}

BOOST_AUTO_TEST_CASE(three_hops_in_order_same_size_no_shared_window) {
  const World& w = world();
  SeededRng rng(10);
  const auto path = w.path(3, false);
  const Bytes payload = payload_of(1234);
  Bytes cur = wrap_or_fail(path, HopCommand::deliver, payload, 4096, rng);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("hop " << i + 1) {
      // Only hop i can remove this layer.
      for (std::size_t other = 0; other < 3; ++other) {
        if (other != i) BOOST_TEST(w.unwrap(cur, other, false).error() == Error::decryption_failed);
      }
      auto u = w.unwrap(cur, i, false);
      BOOST_TEST_REQUIRE(u.ok());
      if (i < 2) {
        BOOST_TEST(cmd(u->command) == cmd(HopCommand::forward));
        BOOST_TEST(u->next_hop == w.ids[i + 2]);
        BOOST_TEST_REQUIRE(u->inner.size() == 4096u);
        // No 16-byte aligned window of the output occurs anywhere in the input.
        std::set<std::string> windows;
        for (std::size_t p = 0; p + 16 <= cur.size(); ++p) {
          windows.emplace(reinterpret_cast<const char*>(cur.data() + p), 16);
        }
        for (std::size_t p = 0; p < u->inner.size(); p += 16) {
          BOOST_TEST(!windows.contains(
              std::string(reinterpret_cast<const char*>(u->inner.data() + p), 16)));
        }
      } else {
        BOOST_TEST(cmd(u->command) == cmd(HopCommand::deliver));
        BOOST_TEST(u->inner == payload);
      }
      cur = std::move(u->inner);
    }
  }
}

BOOST_AUTO_TEST_CASE(pairwise_first_then_onion) {
  const World& w = world();
  SeededRng rng(11);
  const auto path = w.path(3, true);
  const Bytes payload = payload_of(77);
  Bytes cur = wrap_or_fail(path, HopCommand::deliver, payload, 2048, rng);
  BOOST_TEST(unwrap_onion(cur, w.keys[1]).error() == Error::decryption_failed);
  for (std::size_t i = 0; i < 3; ++i) {
    auto u = w.unwrap(cur, i, true);
    BOOST_TEST_REQUIRE(u.ok());
    cur = std::move(u->inner);
  }
  BOOST_TEST(cur == payload);
  // A pairwise-only path of one hop.
  auto one = w.path(1, true);
  auto u = unwrap_pairwise(wrap_or_fail(one, HopCommand::deliver, payload, 512, rng), w.k);
  BOOST_TEST_REQUIRE(u.ok());
  BOOST_TEST(u->inner == payload);
}

BOOST_AUTO_TEST_CASE(cover_commands_round_trip) {
  const World& w = world();
  SeededRng rng(12);
  for (HopCommand c : {HopCommand::drop, HopCommand::loop, HopCommand::deliver}) {
    const auto path = w.path(2, c == HopCommand::loop);
    const Bytes payload = payload_of(16);
    auto first = w.unwrap(wrap_or_fail(path, c, payload, 1024, rng), 0, c == HopCommand::loop);
    BOOST_TEST_REQUIRE(first.ok());
    auto last = w.unwrap(first->inner, 1, false);
    BOOST_TEST_REQUIRE(last.ok());
    BOOST_TEST(cmd(last->command) == cmd(c));
    BOOST_TEST(last->next_hop == RelayId{});
    BOOST_TEST(last->inner == payload);
  }
}

BOOST_AUTO_TEST_CASE(every_bit_flip_fails_at_the_next_hop_512) {
  // Exhaustive over all 4096 bits of a 2-hop packet, at both hops, onion and pairwise.
  const World& w = world();
  for (bool pairwise : {false, true}) {
    SeededRng rng(13);
    const auto path = w.path(2, pairwise);
    const Bytes packet = wrap_or_fail(path, HopCommand::deliver, payload_of(10), 512, rng);
    auto first = w.unwrap(packet, 0, pairwise);
    BOOST_TEST_REQUIRE(first.ok());
    const Bytes second = first->inner;
    std::size_t failures[2] = {0, 0};
    Bytes a = packet, b = second;
    for (std::size_t bit = 0; bit < 512 * 8; ++bit) {
      const auto mask = static_cast<uint8_t>(1u << (bit % 8));
      a[bit / 8] ^= mask;
      b[bit / 8] ^= mask;
      if (w.unwrap(a, 0, pairwise).error() == Error::decryption_failed) ++failures[0];
      if (w.unwrap(b, 1, pairwise).error() == Error::decryption_failed) ++failures[1];
      a[bit / 8] ^= mask;
      b[bit / 8] ^= mask;
    }
    BOOST_TEST(failures[0] == 4096u);
    BOOST_TEST(failures[1] == 4096u);
  }
}

BOOST_AUTO_TEST_CASE(bit_flip_classes_fail_at_the_next_hop_4096) {
  const World& w = world();
  SeededRng rng(14);
  const auto path = w.path(3, false);
  const Bytes packet = wrap_or_fail(path, HopCommand::deliver, payload_of(500), 4096, rng);
  auto first = w.unwrap(packet, 0, false);
  BOOST_TEST_REQUIRE(first.ok());
  auto second = w.unwrap(first->inner, 1, false);
  BOOST_TEST_REQUIRE(second.ok());
  const Bytes* packets[3] = {&packet, &first->inner, &second->inner};
  // head, tag, routing region, body (incl. the payload), tail/pad region.
  const std::size_t positions[] = {0, 17, 31, 32, 40, 47, 48, 49, 64, 79, 80, 100, 2048, 4015,
                                   4016, 4050, 4095};
  for (std::size_t hop = 0; hop < 3; ++hop) {
    for (std::size_t pos : positions) {
      for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
        BOOST_TEST_CONTEXT("hop " << hop + 1 << " byte " << pos << " mask " << int{mask}) {
          BOOST_TEST(w.unwrap(test::flip(*packets[hop], pos, mask), hop, false).error() ==
                     Error::decryption_failed);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(wrong_keys_fail) {
  const World& w = world();
  SeededRng rng(15);
  const auto path = w.path(1, false);
  const Bytes packet = wrap_or_fail(path, HopCommand::deliver, payload_of(5), 512, rng);
  BOOST_TEST(unwrap_onion(packet, w.keys[2]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_pairwise(packet, w.k).error() == Error::decryption_failed);
  auto pw = w.path(1, true);
  const Bytes pairwise = wrap_or_fail(pw, HopCommand::deliver, payload_of(5), 512, rng);
  PairwiseKey reverse;
  const Bytes rk = unhex(pv::kPairwiseKeyReverse);
  std::copy(rk.begin(), rk.end(), reverse.key.begin());
  BOOST_TEST(unwrap_pairwise(pairwise, reverse).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion(pairwise, w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_pairwise(pairwise, w.k).ok());
}

BOOST_AUTO_TEST_CASE(low_order_head_fails) {
  const World& w = world();
  Bytes packet(512, 0);
  BOOST_TEST(unwrap_onion(packet, w.keys[1]).error() == Error::decryption_failed);
  packet[0] = 1;  // u = 1 has order 4: the shared secret is zero
  BOOST_TEST(unwrap_onion(packet, w.keys[1]).error() == Error::decryption_failed);
  // Wrapping to a low-order key is refused.
  SeededRng rng(16);
  const Hop bad[] = {Hop{PublicKey::from_raw(Bytes(32, 0)), w.ids[1]}};
  BOOST_TEST(wrap_packet(bad, HopCommand::deliver, {}, 512, rng).error() ==
             Error::invalid_key_agreement);
}

BOOST_AUTO_TEST_CASE(sizes_truncation_and_extension) {
  const World& w = world();
  SeededRng rng(17);
  const auto path = w.path(1, false);
  const Bytes packet = wrap_or_fail(path, HopCommand::deliver, payload_of(5), 1024, rng);
  const ByteView view(packet);
  BOOST_TEST(unwrap_onion(view.first(1023), w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion(view.first(512), w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion(view.first(100), w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion({}, w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_pairwise(view.first(20), w.k).error() == Error::decryption_failed);
  Bytes longer = packet;
  longer.push_back(0);
  BOOST_TEST(unwrap_onion(longer, w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion(Bytes(65537, 1), w.keys[1]).error() == Error::decryption_failed);
  BOOST_TEST(unwrap_onion(packet, w.keys[1]).ok());
  // Sizes at the bounds wrap and unwrap.
  for (std::size_t size : {kMinPacketSize, kMaxPacketSize}) {
    auto u = unwrap_onion(wrap_or_fail(path, HopCommand::deliver, payload_of(3), size, rng), w.keys[1]);
    BOOST_TEST_REQUIRE(u.ok());
    BOOST_TEST(u->inner == payload_of(3));
  }
  for (std::size_t size : {std::size_t{0}, std::size_t{511}, std::size_t{65537}}) {
    BOOST_TEST(wrap_packet(path, HopCommand::deliver, {}, size, rng).error() ==
               Error::invalid_argument);
  }
}

BOOST_AUTO_TEST_CASE(replay_tag_same_packet_same_tag_else_different) {
  const World& w = world();
  SeededRng rng(18);
  for (bool pairwise : {false, true}) {
    const auto path = w.path(2, pairwise);
    const Bytes payload = payload_of(32);
    const Bytes p1 = wrap_or_fail(path, HopCommand::deliver, payload, 512, rng);
    const Bytes p2 = wrap_or_fail(path, HopCommand::deliver, payload, 512, rng);
    auto a = w.unwrap(p1, 0, pairwise), again = w.unwrap(p1, 0, pairwise), b = w.unwrap(p2, 0, pairwise);
    BOOST_TEST_REQUIRE((a.ok() && again.ok() && b.ok()));
    BOOST_TEST(a->replay_tag == again->replay_tag);
    BOOST_TEST(a->inner == again->inner);
    BOOST_TEST(a->replay_tag != b->replay_tag);
    auto a2 = w.unwrap(a->inner, 1, pairwise);
    BOOST_TEST_REQUIRE(a2.ok());
    BOOST_TEST(a2->replay_tag != a->replay_tag);
  }
}

BOOST_AUTO_TEST_CASE(capacity_boundary) {
  const World& w = world();
  SeededRng rng(19);
  BOOST_TEST(payload_capacity(4096, 3) == 4096u - 240 - 4);
  BOOST_TEST(payload_capacity(512, 6) == 512u - 480 - 4);
  BOOST_TEST(payload_capacity(512, 7) == 0u);
  for (std::size_t size : {std::size_t{512}, std::size_t{777}, std::size_t{4096}}) {
    for (std::size_t n = 1; n <= 3; ++n) {
      BOOST_TEST_CONTEXT("P " << size << " n " << n) {
        const auto path = w.path(n, n == 2);
        const std::size_t cap = payload_capacity(size, n);
        const Bytes full = payload_of(cap);
        Bytes cur = wrap_or_fail(path, HopCommand::deliver, full, size, rng);
        BOOST_TEST(cur.size() == size);
        for (std::size_t i = 0; i < n; ++i) {
          auto u = w.unwrap(cur, i, n == 2);
          BOOST_TEST_REQUIRE(u.ok());
          cur = std::move(u->inner);
        }
        BOOST_TEST(cur == full);
        BOOST_TEST(wrap_packet(path, HopCommand::deliver, payload_of(cap + 1), size, rng).error() ==
                   Error::too_large);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(longest_path_that_fits) {
  // P = 512 fits 6 layers (6 * 80 + 4 <= 512); 7 do not. The path may repeat a relay.
  const World& w = world();
  SeededRng rng(20);
  std::vector<Hop> path;
  for (std::size_t i = 0; i < 7; ++i) path.push_back(w.hop(i % 3));
  BOOST_TEST(wrap_packet(path, HopCommand::deliver, {}, 512, rng).error() == Error::invalid_argument);
  path.pop_back();
  const Bytes payload = payload_of(payload_capacity(512, 6));
  Bytes cur = wrap_or_fail(path, HopCommand::loop, payload, 512, rng);
  for (std::size_t i = 0; i < 6; ++i) {
    auto u = w.unwrap(cur, i % 3, false);
    BOOST_TEST_REQUIRE(u.ok());
    BOOST_TEST(cmd(u->command) == cmd(i < 5 ? HopCommand::forward : HopCommand::loop));
    cur = std::move(u->inner);
  }
  BOOST_TEST(cur == payload);
}

BOOST_AUTO_TEST_CASE(wrap_rejects_bad_arguments) {
  const World& w = world();
  SeededRng rng(21);
  BOOST_TEST(wrap_packet({}, HopCommand::deliver, {}, 512, rng).error() == Error::invalid_argument);
  const auto path = w.path(2, false);
  for (uint8_t c : {uint8_t{0}, uint8_t{1}, uint8_t{5}, uint8_t{255}}) {
    BOOST_TEST(wrap_packet(path, static_cast<HopCommand>(c), {}, 512, rng).error() ==
               Error::invalid_argument);
  }
  auto late = w.path(2, false);
  late[1].pairwise = &w.k;
  BOOST_TEST(wrap_packet(late, HopCommand::deliver, {}, 512, rng).error() == Error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(authentic_but_malformed_routing) {
  const PairwiseKey& k = world().k;
  auto check = [&](const Bytes& m, Error want) {
    auto r = unwrap_pairwise(seal_pairwise_raw(k, m), k);
    BOOST_TEST(r.error() == want);
  };
  check(plaintext(0, 0, 0, 0), Error::malformed);     // unknown command
  check(plaintext(5, 0, 0, 0), Error::malformed);
  check(plaintext(2, 0, 1, 0), Error::malformed);     // reserved byte
  check(plaintext(1, 0, 1, 0), Error::malformed);
  check(plaintext(2, 9, 0, 0), Error::malformed);     // next_hop on a final command
  check(plaintext(2, 0, 0, 512 - 83), Error::malformed);  // len beyond P - 84
  check(plaintext(3, 0, 0, 0xFFFFFFFF), Error::malformed);
  auto edge = unwrap_pairwise(seal_pairwise_raw(k, plaintext(4, 0, 0, 512 - 84)), k);
  BOOST_TEST_REQUIRE(edge.ok());
  BOOST_TEST(edge->inner.size() == 512u - 84);
  BOOST_TEST(cmd(edge->command) == cmd(HopCommand::loop));
  auto fwd = unwrap_pairwise(seal_pairwise_raw(k, plaintext(1, 9, 0, 0)), k);
  BOOST_TEST_REQUIRE(fwd.ok());
  BOOST_TEST(fwd->next_hop[0] == 9);
  BOOST_TEST(fwd->inner.size() == 512u);
}

BOOST_AUTO_TEST_CASE(head_names_the_epoch_parity_and_the_bit_is_authenticated) {
  const World& w = world();
  SeededRng rng(11);
  for (uint64_t epoch : {uint64_t{6}, uint64_t{7}}) {
    for (bool pairwise : {false, true}) {
      BOOST_TEST_CONTEXT("epoch " << epoch << (pairwise ? " pairwise" : " onion")) {
        std::vector<Hop> path{w.hop(0, epoch)};
        if (pairwise) path[0].pairwise = &w.k;
        for (int i = 0; i < 16; ++i) {  // the bit is set, not drawn
          const Bytes packet = wrap_or_fail(path, HopCommand::deliver, payload_of(5), 512, rng);
          BOOST_TEST(layer_epoch_parity(packet) == epoch % 2);
          BOOST_TEST(w.unwrap(packet, 0, pairwise).ok());
          Bytes flipped = packet;
          flipped[31] ^= 0x80;
          BOOST_TEST(w.unwrap(flipped, 0, pairwise).error() == Error::decryption_failed);
        }
      }
    }
  }
  BOOST_TEST(layer_epoch_parity(Bytes(31, 0xff)) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

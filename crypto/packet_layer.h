// Per-hop packet layers of the peer links (docs/packet-format.md): wrap a path, unwrap one layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keys.h"
#include "base/rng.h"

namespace veil::crypto {

inline constexpr std::size_t kPacketHeadSize = 32;   // E (onion) or N (pairwise)
inline constexpr std::size_t kPacketTagSize = 16;    // Poly1305 tag
inline constexpr std::size_t kRoutingSize = 32;      // command || next_hop || 15 zero bytes
inline constexpr std::size_t kLayerOverhead = 80;    // head + tag + routing
inline constexpr std::size_t kMinPacketSize = 512;
inline constexpr std::size_t kMaxPacketSize = 65536;
inline constexpr std::size_t kReplayTagSize = 16;
inline constexpr std::size_t kRelayIdSize = 16;

using ReplayTag = std::array<uint8_t, kReplayTagSize>;
using RelayId = std::array<uint8_t, kRelayIdSize>;

enum class HopCommand : uint8_t { forward = 1, deliver = 2, drop = 3, loop = 4 };

// The per-epoch key K of one direction of a link between two adjacent relays. Wiped on destruction.
struct PairwiseKey {
  std::array<uint8_t, 32> key{};
  PairwiseKey() = default;
  PairwiseKey(const PairwiseKey&) = default;
  PairwiseKey& operator=(const PairwiseKey&) = default;
  ~PairwiseKey() { wipe(key); }
};

// K for the direction sender -> receiver in `epoch`; both ends derive the same key (the sender
// passes i_am_sender = true). `invalid_key_agreement` for a low-order peer key.
Result<PairwiseKey> derive_pairwise_key(const KeyPair& mine, const PublicKey& peer, bool i_am_sender,
                                        uint64_t epoch);

// One hop of a path. The layer is pairwise iff `pairwise` is set (allowed for the first hop only);
// otherwise it is an onion layer to `key`. `id` is written as next_hop by the previous layer.
// `epoch` is the epoch of the hop's key (`key`, or the epoch `pairwise` was derived for); the
// layer names it by its parity in the top bit of its head (docs/packet-format.md, "Epochs").
struct Hop {
  PublicKey key;
  RelayId id{};
  const PairwiseKey* pairwise = nullptr;
  uint64_t epoch = 0;
};

// The parity (0 or 1) of the epoch a layer is under: bit 7 of byte 31 of its head. Any input of
// at least 32 bytes; 0 for a shorter one (which no unwrap accepts).
inline unsigned layer_epoch_parity(ByteView packet) {
  return packet.size() >= kPacketHeadSize ? packet[kPacketHeadSize - 1] >> 7 : 0u;
}

// The largest payload a path of `hops` layers carries in packets of `packet_size` bytes:
// P - n*80 - 4, or 0 if such a path does not fit at all.
constexpr std::size_t payload_capacity(std::size_t packet_size, std::size_t hops) {
  const std::size_t used = hops * kLayerOverhead + 4;
  return packet_size >= used ? packet_size - used : 0;
}

// Wraps `payload` for `path` (hop 1 first); the innermost layer carries `final_command`
// (deliver, drop or loop). Returns exactly `packet_size` bytes, to be sent to path[0].
// `invalid_argument`: empty path, packet_size outside 512..65536, n*80 + 4 > packet_size, a
// pairwise layer after the first, or a final command that is not deliver/drop/loop.
// `too_large`: payload longer than payload_capacity. `invalid_key_agreement`: a low-order hop key.
// Draws from `rng`, in order: 32 bytes per hop (ephemeral scalar or N), then the fill. Each head's
// top bit is the parity of its hop's epoch.
Result<Bytes> wrap_packet(std::span<const Hop> path, HopCommand final_command, ByteView payload,
                          std::size_t packet_size, Rng& rng);

// One removed layer. `inner` is the next packet (same size as the input) for `forward`, else the
// payload. next_hop is all zero unless command is forward.
struct Unwrapped {
  HopCommand command = HopCommand::drop;
  RelayId next_hop{};
  ReplayTag replay_tag{};
  Bytes inner;
};

// Removes an onion layer addressed to `hop_key` (the key of the epoch layer_epoch_parity names:
// choosing it is the caller's); the packet size is the input's size.
// `decryption_failed` for anything that is not an authentic layer: a size outside 512..65536,
// a low-order head, a wrong key, any changed bit. `malformed` for an authentic layer with an
// unknown command, non-zero reserved bytes, a non-zero next_hop on a final command, or a length
// beyond P - 84. The caller checks replay_tag against the tags seen under this epoch key.
Result<Unwrapped> unwrap_onion(ByteView packet, const KeyPair& hop_key);

// Removes a pairwise layer under `key`; errors as unwrap_onion.
Result<Unwrapped> unwrap_pairwise(ByteView packet, const PairwiseKey& key);

}  // namespace veil::crypto

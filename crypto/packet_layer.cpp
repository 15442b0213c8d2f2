// Packet layers: X25519 + HKDF layer secrets, ChaCha20-Poly1305 (libgcrypt), Sphinx filler.
#include "crypto/packet_layer.h"

#include <sodium.h>

#include <cstring>
#include <vector>

#include "crypto/cipher.h"
#include "crypto/init.h"
#include "crypto/kdf.h"

namespace veil::crypto {
namespace {

constexpr std::size_t kOkmSize = 80;
constexpr std::size_t kLenSize = 4;
constexpr std::size_t kSealedOffset = kPacketHeadSize + kPacketTagSize;  // 48: where C starts
constexpr uint8_t kZeroNonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};

static_assert(kLayerOverhead == kSealedOffset + kRoutingSize);
static_assert(kChaChaPolyTagSize == kPacketTagSize);
static_assert(kChaChaPolyNonceSize == sizeof kZeroNonce);

// okm = k (32) || pad_seed (32) || replay_tag (16).
using Okm = Wiped<kOkmSize>;
ByteView aead_key(const Okm& okm) { return ByteView(okm.data(), kChaChaPolyKeySize); }
const uint8_t* pad_seed(const Okm& okm) { return okm.data() + 32; }

void onion_okm(ByteView shared, ByteView head, ByteView hop_public, Okm& okm) {
  hkdf_sha256({shared, head, hop_public}, as_bytes("veil/onion/v1"), as_bytes("layer"), okm);
}

void pairwise_okm(const PairwiseKey& k, ByteView head, Okm& okm) {
  hkdf_sha256({ByteView(k.key), head}, as_bytes("veil/pairwise/packet/v1"), as_bytes("layer"), okm);
}

// pad = the first 80 bytes of ChaCha20-IETF(pad_seed, zero nonce), counter 0.
void write_pad(const Okm& okm, uint8_t* out) {
  crypto_stream_chacha20_ietf(out, kLayerOverhead, kZeroNonce, pad_seed(okm));
}

// buf ^= ks[offset .. offset + buf.size()), where ks is the AEAD keystream of `okm` (counter 1
// at offset 0 of M). buf.size() <= 80.
void xor_aead_keystream(const Okm& okm, std::size_t offset, std::span<uint8_t> buf) {
  uint8_t block[64 + kLayerOverhead] = {};
  const std::size_t skip = offset % 64;
  const auto counter = static_cast<uint32_t>(1 + offset / 64);
  crypto_stream_chacha20_ietf_xor_ic(block, block, skip + buf.size(), kZeroNonce, counter,
                                     aead_key(okm).data());
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] ^= block[skip + i];
  sodium_memzero(block, sizeof block);
}

void write_routing(uint8_t* at, HopCommand command, const RelayId* next_hop) {
  std::memset(at, 0, kRoutingSize);
  at[0] = static_cast<uint8_t>(command);
  if (next_hop != nullptr) std::memcpy(at + 1, next_hop->data(), kRelayIdSize);
}

// Encrypts M = packet[48 .. P) in place under aad = head, tag into packet[32 .. 48).
void seal_layer(uint8_t* packet, std::size_t packet_size, const Okm& okm) {
  chacha20poly1305_seal(aead_key(okm), kZeroNonce, ByteView(packet, kPacketHeadSize),
                        std::span<uint8_t>(packet + kSealedOffset, packet_size - kSealedOffset),
                        std::span<uint8_t, kPacketTagSize>(packet + kPacketHeadSize, kPacketTagSize));
}

bool valid_final(HopCommand c) {
  return c == HopCommand::deliver || c == HopCommand::drop || c == HopCommand::loop;
}

bool all_zero(const uint8_t* p, std::size_t n) {
  uint8_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc |= p[i];
  return acc == 0;
}

bool valid_size(std::size_t p) { return p >= kMinPacketSize && p <= kMaxPacketSize; }

// Puts the parity of `epoch` into the top bit of a head (docs/packet-format.md, "Epochs").
void mark_epoch(std::span<uint8_t, kPacketHeadSize> head, uint64_t epoch) {
  head[kPacketHeadSize - 1] = static_cast<uint8_t>((head[kPacketHeadSize - 1] & 0x7f) | ((epoch & 1) << 7));
}

// Steps 2, 4 and 5 of unwrapping, once okm is known. M = routing || rest: the rest is decrypted
// straight to the front of `inner`, so a forwarded packet is rest || pad without a move. Nothing
// depends on the plaintext before the tag is checked.
Result<Unwrapped> open_layer(ByteView packet, const Okm& okm) {
  const std::size_t size = packet.size();
  const std::size_t rest = size - kLayerOverhead;
  Unwrapped u;
  u.inner.resize(size);
  Wiped<kRoutingSize> routing;
  if (chacha20poly1305_open(aead_key(okm), kZeroNonce, packet.first(kPacketHeadSize),
                            packet.subspan(kSealedOffset),
                            packet.subspan(kPacketHeadSize, kPacketTagSize),
                            {std::span<uint8_t>(routing.data(), kRoutingSize),
                             std::span<uint8_t>(u.inner.data(), rest)}) !=
      Error::ok) {
    return Error::decryption_failed;
  }
  std::memcpy(u.replay_tag.data(), okm.data() + 64, kReplayTagSize);
  const uint8_t* r = routing.data();
  if (!all_zero(r + 1 + kRelayIdSize, kRoutingSize - 1 - kRelayIdSize)) return Error::malformed;
  const auto hop_command = static_cast<HopCommand>(r[0]);
  if (hop_command == HopCommand::forward) {
    u.command = hop_command;
    std::memcpy(u.next_hop.data(), r + 1, kRelayIdSize);
    write_pad(okm, u.inner.data() + rest);  // next packet = rest || pad
    return u;
  }
  if (!valid_final(hop_command) || !all_zero(r + 1, kRelayIdSize)) return Error::malformed;
  u.command = hop_command;
  const uint8_t* l = u.inner.data();
  const std::size_t len = std::size_t{l[0]} << 24 | std::size_t{l[1]} << 16 |
                          std::size_t{l[2]} << 8 | std::size_t{l[3]};
  if (len > rest - kLenSize) return Error::malformed;
  std::memmove(u.inner.data(), l + kLenSize, len);
  u.inner.resize(len);
  return u;
}

}  // namespace

Result<PairwiseKey> derive_pairwise_key(const KeyPair& mine, const PublicKey& peer, bool i_am_sender,
                                        uint64_t epoch) {
  ensure_initialized();
  Wiped<32> shared;
  if (mine.priv.agree(peer, shared) != Error::ok) return Error::invalid_key_agreement;
  const PublicKey& s = i_am_sender ? mine.pub : peer;
  const PublicKey& t = i_am_sender ? peer : mine.pub;
  uint8_t epoch_be[8];
  for (int i = 0; i < 8; ++i) epoch_be[i] = static_cast<uint8_t>(epoch >> (56 - 8 * i));
  PairwiseKey k;
  hkdf_sha256({ByteView(shared), ByteView(s.raw()), ByteView(t.raw()), ByteView(epoch_be)},
              as_bytes("veil/pairwise/v1"), as_bytes("key"), k.key);
  return k;
}

Result<Bytes> wrap_packet(std::span<const Hop> path, HopCommand final_command, ByteView payload,
                          std::size_t packet_size, Rng& rng) {
  const std::size_t n = path.size();
  const std::size_t size = packet_size;
  if (n == 0 || !valid_size(size) || n * kLayerOverhead + kLenSize > size ||
      !valid_final(final_command)) {
    return Error::invalid_argument;
  }
  for (std::size_t j = 1; j < n; ++j) {
    if (path[j].pairwise != nullptr) return Error::invalid_argument;
  }
  if (payload.size() > payload_capacity(size, n)) return Error::too_large;
  ensure_initialized();

  // Packet j (0-based) is built at out[j*80 .. j*80 + P): its M holds packet j+1's first P - 80
  // bytes in place, so every layer is sealed in place and packet 0 ends up at out[0 .. P).
  Bytes out(size + (n - 1) * kLayerOverhead);
  std::vector<Okm> secrets(n);  // each wiped on destruction
  for (std::size_t j = 0; j < n; ++j) {
    uint8_t* head = out.data() + j * kLayerOverhead;
    const std::span<uint8_t, kPacketHeadSize> head_span(head, kPacketHeadSize);
    if (path[j].pairwise != nullptr) {
      rng.fill(head_span);
      mark_epoch(head_span, path[j].epoch);
      pairwise_okm(*path[j].pairwise, head_span, secrets[j]);
      continue;
    }
    Wiped<32> e;
    rng.fill(e);
    const PublicKey ephemeral = x25519_base(e);  // top bit clear (RFC 7748 §5)
    std::memcpy(head, ephemeral.raw().data(), kPacketHeadSize);
    mark_epoch(head_span, path[j].epoch);
    Wiped<32> shared;
    if (x25519(e, path[j].key, shared) != Error::ok) return Error::invalid_key_agreement;
    onion_okm(shared, head_span, path[j].key.raw(), secrets[j]);
  }

  // Innermost plaintext: routing || len || payload || fill || filler.
  const std::size_t m_len = size - kSealedOffset;
  uint8_t* last = out.data() + (n - 1) * kLayerOverhead;
  uint8_t* m = last + kSealedOffset;
  write_routing(m, final_command, nullptr);
  const auto len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) m[kRoutingSize + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
  if (!payload.empty()) std::memcpy(m + kRoutingSize + kLenSize, payload.data(), payload.size());
  const std::size_t filler_start = m_len - (n - 1) * kLayerOverhead;
  const std::size_t fill_start = kRoutingSize + kLenSize + payload.size();
  rng.fill(std::span<uint8_t>(m + fill_start, filler_start - fill_start));
  // Filler: pad j, followed inward through layers j+1 .. n-1 (0-based), lands in M of the last.
  for (std::size_t j = 0; j + 1 < n; ++j) {
    std::array<uint8_t, kLayerOverhead> buf{};
    write_pad(secrets[j], buf.data());
    std::size_t q = 0;
    for (std::size_t k = j + 1; k < n; ++k) {
      q = m_len - (k - j) * kLayerOverhead;
      xor_aead_keystream(secrets[k], q, buf);
    }
    std::memcpy(m + q, buf.data(), kLayerOverhead);
  }
  seal_layer(last, size, secrets[n - 1]);

  // Outward: M_j = routing(forward, path[j+1].id) || packet_{j+1}[0 .. P - 80).
  for (std::size_t j = n - 1; j-- > 0;) {
    uint8_t* packet = out.data() + j * kLayerOverhead;
    write_routing(packet + kSealedOffset, HopCommand::forward, &path[j + 1].id);
    seal_layer(packet, size, secrets[j]);
  }
  out.resize(size);
  return out;
}

Result<Unwrapped> unwrap_onion(ByteView packet, const KeyPair& hop_key) {
  if (!valid_size(packet.size())) return Error::decryption_failed;
  ensure_initialized();
  const ByteView head = packet.first(kPacketHeadSize);
  std::array<uint8_t, kPacketHeadSize> u{};  // E without the epoch bit
  std::memcpy(u.data(), head.data(), kPacketHeadSize);
  u[kPacketHeadSize - 1] &= 0x7f;
  Wiped<32> shared;
  if (hop_key.priv.agree(PublicKey::from_raw(u), shared) != Error::ok) {
    return Error::decryption_failed;
  }
  Okm okm;
  onion_okm(shared, head, hop_key.pub.raw(), okm);
  return open_layer(packet, okm);
}

Result<Unwrapped> unwrap_pairwise(ByteView packet, const PairwiseKey& key) {
  if (!valid_size(packet.size())) return Error::decryption_failed;
  ensure_initialized();
  Okm okm;
  pairwise_okm(key, packet.first(kPacketHeadSize), okm);
  return open_layer(packet, okm);
}

}  // namespace veil::crypto

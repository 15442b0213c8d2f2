// v1 seal/open, v2 seal for 1..1000 recipients, fan-out, v2 open, packet layers; with the X25519 bound.
#include "bench/crypto_bench.h"

#include <cstdio>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "crypto/packet_layer.h"
#include "crypto/sealed_sender.h"

namespace veil::bench {
namespace c = veil::crypto;

namespace {

constexpr uint64_t kNow = 1'800'000'000'000;

struct Fixture {
  SystemRng rng;
  c::KeyPair root = c::KeyPair::generate(rng);
  c::KeyPair server = c::KeyPair::generate(rng);
  c::KeyPair sender = c::KeyPair::generate(rng);
  c::KeyPair recipient = c::KeyPair::generate(rng);
  c::ServerCertificate server_cert = c::ServerCertificate::issue(1, server.pub, root.priv, rng);
  c::SenderCertificate sender_cert;
  Bytes usmc;

  explicit Fixture(std::size_t content_bytes) {
    c::SenderCertificate::Fields f;
    f.sender_uuid = "9d0652a3-dcc3-4d11-975f-74d61598733f";
    f.sender_e164 = "+15551234567";
    f.sender_device = 1;
    f.expires_ms = kNow + 30ull * 86400 * 1000;
    f.identity_key = sender.pub;
    sender_cert = std::move(*c::SenderCertificate::issue(f, &server_cert, {}, server.priv, rng));
    Bytes content(content_bytes);
    rng.fill(content);
    usmc = c::MessageContent::serialize(c::ContentType::message, sender_cert.serialized, content, 0,
                                        {});
  }
};

c::ServiceId nth_service_id(std::size_t i) {
  c::ServiceId id;
  id.uuid[0] = 0x42;
  id.uuid[12] = static_cast<uint8_t>(i >> 24);
  id.uuid[13] = static_cast<uint8_t>(i >> 16);
  id.uuid[14] = static_cast<uint8_t>(i >> 8);
  id.uuid[15] = static_cast<uint8_t>(i);
  return id;
}

}  // namespace

int run_crypto_bench(const CryptoBenchOptions& o) {
  Fixture fx(o.content_bytes);
  const TimingPlan plan{2, 5, o.quick ? 0.3 : 1.0};
  const TimingPlan long_plan{2, 5, o.quick ? 1.0 : 3.0};
  const std::string size_note = "usmc " + std::to_string(fx.usmc.size()) + " B";
  std::printf("{\"impl\":\"veil\",\"op\":\"meta\",\"content_bytes\":%zu,\"usmc_bytes\":%zu}\n",
              o.content_bytes, fx.usmc.size());

  // The bound: X25519 variable-base and fixed-base operations per second on one core.
  std::array<uint8_t, 32> out{};
  if (selected(o.only, "x25519")) report("x25519", measure(plan, [&] { (void)fx.sender.priv.agree(fx.recipient.pub, out); }),
         "one variable-base X25519");
  if (selected(o.only, "x25519_base")) report("x25519_base", measure(plan, [&] { (void)fx.sender.priv.public_key(); }),
         "one fixed-base X25519");
  if (selected(o.only, "xeddsa_verify")) report("xeddsa_verify", measure(plan, [&] {
           (void)c::xeddsa_verify(fx.server.pub, fx.sender_cert.certificate,
                                  fx.sender_cert.signature);
         }),
         "one XEd25519 verification (libsignal-protocol-c)");

  // v1
  Bytes sealed = *c::seal_v1(fx.usmc, fx.sender, fx.recipient.pub, fx.rng);
  c::TrustPolicy policy;
  policy.roots.push_back(fx.root.pub);
  c::CertificateValidator validator(policy);
  {
    auto check = c::open_sealed(sealed, fx.recipient, validator, kNow);
    if (!check || check->content.content.size() != o.content_bytes) {
      std::fprintf(stderr, "v1 round trip failed\n");
      return 1;
    }
  }
  if (selected(o.only, "v1_seal")) report("v1_seal", measure(plan, [&] { (void)c::seal_v1(fx.usmc, fx.sender, fx.recipient.pub, fx.rng); }),
         size_note + "; bound: 1 fixed-base + 2 variable-base X25519");
  if (selected(o.only, "v1_open")) report("v1_open", measure(plan, [&] { (void)c::open_sealed(sealed, fx.recipient, validator, kNow); }),
         "decrypt + certificate validation (validated-certificate cache); bound: 2 X25519");
  if (selected(o.only, "v1_open_uncached")) report("v1_open_uncached", measure(plan, [&] {
           c::CertificateValidator fresh(policy);
           (void)c::open_sealed(sealed, fx.recipient, fresh, kNow);
         }),
         "decrypt + full chain validation every time: 2 X25519 + 2 XEd25519 verifications");

  // v2 seal for n recipients, one device each.
  std::vector<c::KeyPair> keys;
  std::vector<c::SealRecipient> recipients;
  for (std::size_t i = 0; i < 1000; ++i) {
    keys.push_back(c::KeyPair::generate(fx.rng));
    recipients.push_back(c::SealRecipient{nth_service_id(i),
                                          {c::Device{1, static_cast<uint16_t>(1 + i)}},
                                          keys.back().pub});
  }
  Bytes sent1000;
  for (std::size_t n : {1, 10, 100, 1000}) {
    std::span<const c::SealRecipient> subset(recipients.data(), n);
    Bytes sent = *c::seal_v2(fx.usmc, fx.sender, subset, {}, fx.rng);
    if (n == 1000) sent1000 = sent;
    if (!selected(o.only, "v2_seal_" + std::to_string(n))) continue;
    report("v2_seal_" + std::to_string(n),
           measure(n == 1000 ? long_plan : plan,
                   [&] { (void)c::seal_v2(fx.usmc, fx.sender, subset, {}, fx.rng); }),
           std::to_string(sent.size()) + " B out; bound: 1 fixed-base + " +
               std::to_string(2 * n) + " variable-base X25519, one thread");
  }

  // Fan-out of the 1000-recipient message: parse + every recipient's message.
  auto parsed = c::SentMessage::parse(sent1000);
  if (!parsed || parsed->recipients.size() != 1000) {
    std::fprintf(stderr, "fan-out parse failed\n");
    return 1;
  }
  Bytes received = parsed->received_message(999);
  {
    auto check = c::open_sealed(received, keys[999], validator, kNow);
    if (!check) {
      std::fprintf(stderr, "v2 open failed\n");
      return 1;
    }
  }
  std::size_t sink = 0;
  if (selected(o.only, "fanout_1000")) report("fanout_1000", measure(long_plan, [&] {
           auto p = c::SentMessage::parse(sent1000);
           for (std::size_t i = 0; i < p->recipients.size(); ++i) {
             for (ByteView piece : p->received_pieces(i)) sink += piece.size();
           }
         }),
         "parse + 1000 per-recipient views (0x22, C||AT, shared tail, no copy), no cryptography");
  if (selected(o.only, "fanout_1000_copy")) report("fanout_1000_copy", measure(long_plan, [&] {
           auto p = c::SentMessage::parse(sent1000);
           for (std::size_t i = 0; i < p->recipients.size(); ++i) {
             sink += p->received_message(i).size();
           }
         }),
         "parse + 1000 per-recipient copies (same work as libsignal's messageForRecipient)");
  if (selected(o.only, "v2_open")) report("v2_open", measure(plan, [&] { (void)c::open_sealed(received, keys[999], validator, kNow); }),
         "decrypt received + AT check + certificate validation (cache); bound: 3 X25519");
  // Packet layers (docs/packet-format.md) at P = 4096: what a relay does per packet.
  {
    constexpr std::size_t kP = 4096;
    const c::KeyPair hop1 = c::KeyPair::generate(fx.rng), hop2 = c::KeyPair::generate(fx.rng),
                     hop3 = c::KeyPair::generate(fx.rng);
    const c::PairwiseKey k = *c::derive_pairwise_key(fx.sender, hop1.pub, true, 1);
    const c::Hop pairwise_path[] = {{hop1.pub, {}, &k}};
    const c::Hop onion_path[] = {{hop1.pub, {1}}, {hop2.pub, {2}}, {hop3.pub, {3}}};
    const Bytes payload(1024, 0x5A);
    const Bytes pw = *c::wrap_packet(pairwise_path, c::HopCommand::deliver, payload, kP, fx.rng);
    const Bytes onion = *c::wrap_packet(onion_path, c::HopCommand::deliver, payload, kP, fx.rng);
    auto pw_check = c::unwrap_pairwise(pw, k);
    auto onion_check = c::unwrap_onion(onion, hop1);
    if (!pw_check || pw_check->inner != payload || !onion_check || onion_check->inner.size() != kP) {
      std::fprintf(stderr, "packet layer round trip failed\n");
      return 1;
    }
    if (selected(o.only, "packet_wrap_1hop_pairwise")) report("packet_wrap_1hop_pairwise", measure(plan, [&] {
           sink += c::wrap_packet(pairwise_path, c::HopCommand::deliver, payload, kP, fx.rng)->size();
         }),
         "P 4096, 1 KiB payload: HKDF + one AEAD over P, no X25519 (+ fill from the system RNG)");
    if (selected(o.only, "packet_unwrap_pairwise")) report("packet_unwrap_pairwise", measure(plan, [&] {
           sink += c::unwrap_pairwise(pw, k)->inner.size();
         }),
         "P 4096: HKDF + one AEAD over P");
    if (selected(o.only, "packet_wrap_3hop_onion")) report("packet_wrap_3hop_onion", measure(plan, [&] {
           sink += c::wrap_packet(onion_path, c::HopCommand::deliver, payload, kP, fx.rng)->size();
         }),
         "P 4096, 1 KiB payload; bound: 3 fixed-base + 3 variable-base X25519, 3 AEADs over P");
    if (selected(o.only, "packet_unwrap_onion")) report("packet_unwrap_onion", measure(plan, [&] {
           sink += c::unwrap_onion(onion, hop1)->inner.size();
         }),
         "P 4096, forward layer; bound: 1 variable-base X25519 + one AEAD over P");
  }
  if (sink == 0) std::fprintf(stderr, "(sink)\n");
  return 0;
}

}  // namespace veil::bench

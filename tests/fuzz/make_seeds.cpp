// Writes the seed corpus of every fuzz target (deterministic): `veil_fuzz_seeds tests/fuzz/corpus`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "crypto/certificate.h"
#include "crypto/content_padding.h"
#include "crypto/message_content.h"
#include "crypto/packet_layer.h"
#include "crypto/sealed_sender_v1.h"
#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "fuzz_directory_world.h"
#include "fuzz_world.h"
#include "proxy/relay/core/directory.h"

namespace fs = std::filesystem;
using namespace veil;
using namespace veil::crypto;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& name, ByteView data) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) {
    std::cerr << "cannot write " << (dir / name) << "\n";
    std::exit(1);
  }
}

template <class T>
T must(Result<T> r) {
  if (!r) {
    std::cerr << "seed generation failed: " << error_name(r.error()) << "\n";
    std::exit(1);
  }
  return std::move(*r);
}

ServiceId sid(std::string_view text) { return must(ServiceId::parse(text)); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: veil_fuzz_seeds CORPUS_DIR\n";
    return 2;
  }
  g_root = argv[1];
  fuzz::FuzzWorld& w = fuzz::world();

  // Certificates: embedded signer + uuidString + e164, and signer id + uuidBytes without e164.
  const ServerCertificate server = ServerCertificate::issue(7, w.server.pub, w.trust_root.priv, w.rng);
  SenderCertificate::Fields f;
  f.sender_uuid = "6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c";
  f.sender_e164 = "+15550001111";
  f.sender_device = 3;
  f.expires_ms = fuzz::kExpires;
  f.identity_key = w.sender.pub;
  const SenderCertificate cert =
      must(SenderCertificate::issue(f, &server, std::nullopt, w.server.priv, w.rng));
  SenderCertificate::Fields g = f;
  g.uuid_as_bytes = true;
  g.sender_e164.reset();
  g.sender_device = 127;
  const SenderCertificate cert_by_id = must(SenderCertificate::issue(g, nullptr, 7, w.server.priv, w.rng));
  put("fuzz_sender_certificate", "sender_embedded_signer", cert.serialized);
  put("fuzz_sender_certificate", "sender_signer_id_uuid_bytes", cert_by_id.serialized);
  put("fuzz_sender_certificate", "server_certificate", server.serialized);

  // USMCs of every type, with and without hint and group id.
  const Bytes inner = {0x33, 0x0a, 0x21, 0x05, 0x01, 0x02, 0x03};
  const Bytes group = {'g', 'r', 'o', 'u', 'p'};
  const Bytes usmc_msg = MessageContent::serialize(ContentType::message, cert.serialized, inner, 0, {});
  const Bytes usmc_prekey =
      MessageContent::serialize(ContentType::prekey, cert_by_id.serialized, inner, 2, {});
  const Bytes usmc_skey =
      MessageContent::serialize(ContentType::senderkey, cert.serialized, inner, 1, group);
  const Bytes usmc_plain = MessageContent::serialize(ContentType::plaintext, cert.serialized,
                                                     Bytes{0xC0, 0x0a, 0x00}, 7, {});
  put("fuzz_message_content", "message", usmc_msg);
  put("fuzz_message_content", "prekey_hint2_signer_id", usmc_prekey);
  put("fuzz_message_content", "senderkey_group", usmc_skey);
  put("fuzz_message_content", "plaintext_unknown_hint", usmc_plain);

  // v1 messages to the fixed recipient.
  put("fuzz_sealed_v1", "message", must(seal_v1(usmc_msg, w.sender, w.recipient.pub, w.rng)));
  put("fuzz_sealed_v1", "senderkey_group", must(seal_v1(usmc_skey, w.sender, w.recipient.pub, w.rng)));
  put("fuzz_sealed_v1", "garbage_usmc", must(seal_v1(inner, w.sender, w.recipient.pub, w.rng)));

  // v2 SentMessages: multi-device + PNI + excluded, a single recipient, and a legacy 0x22 form.
  const KeyPair other = KeyPair::generate(w.rng);
  const SealRecipient multi[] = {
      {sid("11111111-2222-4333-8444-555555555555"), {{1, 0x1234}, {2, 0x3fff}, {127, 1}}, w.recipient.pub},
      {sid("PNI:22222222-2222-4333-8444-555555555555"), {{3, 7}}, other.pub},
  };
  const ServiceId excluded[] = {sid("33333333-2222-4333-8444-555555555555"),
                                sid("PNI:44444444-2222-4333-8444-555555555555")};
  const Bytes sent_multi = must(seal_v2(usmc_msg, w.sender, multi, excluded, w.rng));
  put("fuzz_sent_message", "multi_device_pni_excluded", sent_multi);
  const Bytes sent_single = must(seal_v2(usmc_skey, w.sender, std::span(multi, 1), {}, w.rng));
  put("fuzz_sent_message", "single_recipient", sent_single);
  Bytes legacy = {0x22, 0x02};
  for (int fill : {0xAA, 0xBB}) {
    const auto b = static_cast<uint8_t>(fill);
    legacy.insert(legacy.end(), 16, b);  // uuid, taken as an ACI
    legacy.insert(legacy.end(), {0x05, 0x00, 0x2a});  // device 5, registration id 42
    legacy.insert(legacy.end(), 48, b);  // C || AT
  }
  legacy.insert(legacy.end(), 60, 0x5E);
  put("fuzz_sent_message", "legacy_0x22", legacy);

  // v2 received messages for the fixed recipient.
  const SentMessage parsed_multi = must(SentMessage::parse(sent_multi));
  put("fuzz_received_v2", "from_multi", parsed_multi.received_message(0));
  const SentMessage parsed_single = must(SentMessage::parse(sent_single));
  put("fuzz_received_v2", "senderkey_group", parsed_single.received_message(0));
  const SealRecipient prekey_to[] = {multi[0]};
  const Bytes sent_prekey = must(seal_v2(usmc_prekey, w.sender, prekey_to, {}, w.rng));
  put("fuzz_received_v2", "prekey_signer_id", must(SentMessage::parse(sent_prekey)).received_message(0));

  // Padded contents at the block boundaries.
  for (int n : {0, 1, 78, 79, 158, 200}) {
    const Bytes content(static_cast<std::size_t>(n), 0x5A);
    put("fuzz_unpad", "pad80_n" + std::to_string(n), pad_content(content));
  }
  put("fuzz_unpad", "pad160_n100", pad_content(Bytes(100, 0x80), 160));

  // Service ids as text and as 17-byte fixed-width binary.
  const ServiceId aci = sid("11111111-2222-4333-8444-555555555555");
  const ServiceId pni = sid("PNI:22222222-2222-4333-8444-555555555555");
  put("fuzz_service_id", "aci_text", as_bytes(aci.to_string()));
  put("fuzz_service_id", "pni_text", as_bytes(pni.to_string()));
  put("fuzz_service_id", "upper_text", as_bytes("PNI:ABCDEF01-2345-6789-ABCD-EF0123456789"));
  put("fuzz_service_id", "aci_fixed", aci.fixed_width());
  put("fuzz_service_id", "pni_fixed", pni.fixed_width());

  // Packet layers to the fixed recipient (onion) and under K = sender -> recipient, epoch 1.
  {
    SeededRng prng(0x9AC4E7);
    const PairwiseKey k = must(derive_pairwise_key(w.sender, w.recipient.pub, true, 1));
    const Hop to_recipient{w.recipient.pub, {}};
    const Hop to_sender{w.sender.pub, {0x11}};
    const Hop pairwise{{}, {}, &k};
    const Bytes payload = {'s', 'e', 'e', 'd'};
    const Hop onion1[] = {to_recipient};
    const Hop onion2[] = {to_recipient, to_sender};
    const Hop pair1[] = {pairwise};
    const Hop pair2[] = {pairwise, to_sender};
    put("fuzz_packet_unwrap", "onion_deliver_512",
        must(wrap_packet(onion1, HopCommand::deliver, payload, 512, prng)));
    put("fuzz_packet_unwrap", "onion_forward_1024",
        must(wrap_packet(onion2, HopCommand::loop, payload, 1024, prng)));
    put("fuzz_packet_unwrap", "pairwise_drop_512",
        must(wrap_packet(pair1, HopCommand::drop, {}, 512, prng)));
    put("fuzz_packet_unwrap", "pairwise_forward_512",
        must(wrap_packet(pair2, HopCommand::deliver, payload, 512, prng)));
  }

  // Descriptors of three relays and directories over them, signed by the fixed authorities.
  {
    fuzz::DirectoryWorld& dw = fuzz::directory_world();
    const relay::EpochSchedule schedule{fuzz::kDirectoryGenesisS, fuzz::kDirectoryEpochS};
    const uint64_t first = *relay::epoch_at_s(schedule, fuzz::kDirectoryNowS - 1000);
    struct Spec { std::string name, address; std::vector<std::string> providers; };
    const Spec specs[] = {{"mix-1", "10.0.0.1:7000", {}},
                          {"mix-2", "[2001:db8::2]:7000", {}},
                          {"prov-a", "10.0.0.3:7000", {"alice.example"}}};
    relay::DirectoryContents contents;
    contents.network = "fuzznet";
    contents.serial = 1;
    contents.valid_after_unix_s = fuzz::kDirectoryNowS - 1000;
    contents.valid_until_unix_s = fuzz::kDirectoryNowS + 7200;
    contents.schedule = schedule;
    for (const Spec& spec : specs) {
      const IdentityKey id = IdentityKey::generate(dw.rng);
      relay::Descriptor d;
      d.name = spec.name;
      d.identity_key = id.public_key();
      d.addresses = {spec.address};
      d.providers = spec.providers;
      d.published_unix_s = fuzz::kDirectoryNowS - 2000;
      for (uint64_t n = first; n < first + 4; ++n) d.epoch_keys.push_back({n, KeyPair::generate(dw.rng).pub});
      const std::string text = must(relay::sign_descriptor(d, id));
      put("fuzz_descriptor", spec.name, as_bytes(text));
      contents.descriptors.push_back(text);
    }
    const std::string by_a = must(relay::create_directory(contents, dw.authority_a));
    put("fuzz_directory", "signed_by_a", as_bytes(by_a));
    put("fuzz_directory", "signed_by_a_and_b", as_bytes(must(relay::add_signature(by_a, dw.authority_b))));
    contents.descriptors.resize(1);
    contents.serial = 2;
    put("fuzz_directory", "one_relay_by_b",
        as_bytes(must(relay::create_directory(contents, dw.authority_b))));
  }

  std::cout << "seeds written to " << g_root << "\n";
  return 0;
}

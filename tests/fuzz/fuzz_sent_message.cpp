// Fuzzes SentMessage::parse and the per-recipient fan-out of whatever parses.
#include <set>

#include "crypto/sealed_sender_v2.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto sent = SentMessage::parse(ByteView(data, size));
  if (!sent) return 0;
  fuzz::check(sent->shared.size() >= 32);
  std::set<ServiceId> ids(sent->excluded.begin(), sent->excluded.end());
  fuzz::check(ids.size() == sent->excluded.size());
  for (std::size_t i = 0; i < sent->recipients.size(); ++i) {
    const auto& r = sent->recipients[i];
    fuzz::check(ids.insert(r.service_id).second);
    fuzz::check(!r.devices.empty() && r.key_material.size() == kRecipientKeyMaterialSize);
    std::set<uint8_t> devices;
    for (const Device& d : r.devices) {
      fuzz::check(d.id >= 1 && d.id <= 127 && d.registration_id <= kMaxRegistrationId);
      fuzz::check(devices.insert(d.id).second);
    }
    const Bytes received = sent->received_message(i);
    fuzz::check(received.size() == 1 + kRecipientKeyMaterialSize + sent->shared.size());
    fuzz::check(received[0] == kReceivedMessageVersion);
  }
  return 0;
}

// Bundle opening: access check and SSv2 fan-out into Delivery messages.
#include "proxy/relay/core/bundle.h"

#include <array>
#include <climits>

#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "relay.pb.h"

namespace veil::relay {

Result<std::vector<Delivery>> open_bundle(ByteView plain,
                                          const std::map<std::string, RecipientAccess>& recipients,
                                          uint64_t stamp) {
  veil::relay::Payload payload;
  if (plain.size() > INT_MAX || !payload.ParseFromArray(plain.data(), static_cast<int>(plain.size())) ||
      !payload.has_bundle()) {
    return Error::malformed;
  }
  const auto& bundle = payload.bundle();
  const ByteView envelope = as_bytes(bundle.envelope());
  const ByteView presented = as_bytes(bundle.access_key());
  if (envelope.empty() || presented.size() != 16) return Error::malformed;

  // The recipients: named in the bundle (SSv1) or inside the sent message (SSv2).
  const bool v1 = (envelope[0] >> 4) <= 1;
  std::optional<crypto::SentMessage> sent;
  std::vector<std::string> sids;
  if (v1) {
    if (bundle.recipients_size() != 1) return Error::malformed;
    // The sending relay canonicalises; an older one may not have: compare canonical forms.
    const auto sid = crypto::ServiceId::parse(bundle.recipients(0).service_id());
    if (!sid) return Error::malformed;
    if (bundle.recipients(0).devices_size() == 0) return Error::malformed;  // as at submit
    std::array<bool, 128> listed{};
    for (uint32_t d : bundle.recipients(0).devices()) {
      if (d < 1 || d > 127 || listed[d]) return Error::malformed;
      listed[d] = true;
    }
    sids.push_back(sid->to_string());
  } else {
    auto parsed = crypto::SentMessage::parse(envelope);
    if (!parsed) return Error::malformed;
    sent.emplace(std::move(*parsed));
    sids.reserve(sent->recipients.size());
    for (const auto& r : sent->recipients) sids.push_back(r.service_id.to_string());
  }

  // One access check: the XOR of the restricted recipients' keys.
  std::array<uint8_t, 16> expected{};
  bool any_restricted = false;
  for (const std::string& sid : sids) {
    auto it = recipients.find(sid);
    if (it == recipients.end()) return Error::unknown_recipient;
    if (it->second.unrestricted) continue;
    any_restricted = true;
    for (std::size_t i = 0; i < 16; ++i) expected[i] ^= it->second.access_key[i];
  }
  // SSv1 to an unrestricted recipient accepts any key (as before); SSv2 always compares.
  if ((!v1 || any_restricted) && !ct_equal(expected, presented)) return Error::access_denied;

  std::vector<Delivery> out;
  if (v1) {
    Delivery d;
    *d.mutable_recipient() = bundle.recipients(0);
    d.mutable_recipient()->set_service_id(sids[0]);
    d.set_access_key(bundle.access_key());
    d.set_envelope(bundle.envelope());
    d.set_server_timestamp(stamp);
    out.push_back(std::move(d));
    return out;
  }
  out.reserve(sent->recipients.size());
  for (std::size_t i = 0; i < sent->recipients.size(); ++i) {
    const auto& r = sent->recipients[i];
    Delivery d;
    d.mutable_recipient()->set_service_id(sids[i]);
    for (const auto& dev : r.devices) d.mutable_recipient()->add_devices(dev.id);
    d.set_access_key(bundle.access_key());
    std::string env;
    env.reserve(1 + crypto::kRecipientKeyMaterialSize + sent->shared.size());
    for (ByteView piece : sent->received_pieces(i)) env.append(piece.begin(), piece.end());
    d.set_envelope(std::move(env));
    d.set_server_timestamp(stamp);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace veil::relay

// Submission parsing, validation and stripping (the named-field rebuild of the bundle).
#include "proxy/relay/core/submission.h"

#include <algorithm>
#include <array>
#include <climits>

#include "base/utf8.h"
#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "relay.pb.h"

namespace veil::relay {

ParsedSubmission parse_submission(ByteView body, std::span<const PeerConfig> peers) {
  ParsedSubmission out;
  veil::relay::Submission sub;
  if (body.size() > INT_MAX || !sub.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    out.error = Error::malformed;
    return out;
  }
  out.request_id = sub.request_id();
  auto fail = [&out](Error e) {
    out.error = e;
    return out;
  };
  if (!sub.token().empty()) return fail(Error::invalid_argument);  // tokens are not accepted yet
  if (sub.access_key().size() != 16) return fail(Error::malformed);
  if (sub.envelope().empty()) return fail(Error::malformed);
  if (!is_valid_utf8(sub.destination())) return fail(Error::malformed);

  // Destination: the provider relay that serves it.
  std::size_t destination = peers.size();
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const auto& prov = peers[i].providers;
    if (std::find(prov.begin(), prov.end(), sub.destination()) != prov.end()) {
      destination = i;
      break;
    }
  }
  if (destination == peers.size()) return fail(Error::unknown_destination);
  out.destination = destination;

  // Rebuild the bundle from the named fields only.
  veil::relay::Payload payload;
  auto* bundle = payload.mutable_bundle();
  const ByteView envelope = as_bytes(sub.envelope());
  const int nibble = envelope[0] >> 4;
  if (nibble <= 1) {
    if (sub.recipients_size() != 1) return fail(Error::invalid_argument);
    const auto& r = sub.recipients(0);
    // UUIDs are case-insensitive: the bundle carries the canonical form (lower case, "PNI:"),
    // the one recipient tables and SSv2 fan-out use, so that any spelling reaches the recipient.
    const auto sid = crypto::ServiceId::parse(r.service_id());
    if (!sid) return fail(Error::invalid_service_id);
    if (r.devices_size() == 0) return fail(Error::invalid_argument);
    std::array<bool, 128> listed{};
    for (uint32_t d : r.devices()) {
      if (d < 1 || d > 127) return fail(Error::invalid_device_id);
      // One rule for every recipient list (as SSv2's sent message): a device at most once.
      if (listed[d]) return fail(Error::duplicate_recipient);
      listed[d] = true;
    }
    auto* rec = bundle->add_recipients();
    rec->set_service_id(sid->to_string());
    *rec->mutable_devices() = r.devices();
  } else if (envelope[0] == crypto::kSentMessageVersion ||
             envelope[0] == crypto::kSentMessageLegacyVersion) {
    auto sent = crypto::SentMessage::parse(envelope);
    if (!sent) return fail(sent.error());
    if (sent->recipients.empty()) return fail(Error::invalid_argument);
  } else {
    return fail(Error::unknown_version);
  }
  bundle->set_access_key(sub.access_key());
  bundle->set_envelope(sub.envelope());
  out.payload = payload.SerializeAsString();
  return out;
}

}  // namespace veil::relay

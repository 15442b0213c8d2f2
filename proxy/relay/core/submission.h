// Parsing and validating one submission from the messenger server, and stripping it: the bundle
// that travels is rebuilt from its named fields only. Pure; the submit stage and a fuzz target
// call it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/error.h"
#include "proxy/relay/core/config.h"

namespace veil::relay {

struct ParsedSubmission {
  uint64_t request_id = 0;       // echoed in the answer (0 if the frame did not parse)
  Error error = Error::ok;       // why it is rejected; ok otherwise
  std::size_t destination = 0;   // index into `peers` of the destination provider's relay
  std::string payload;           // serialized relay.Payload{bundle}: what the last hop opens
};

// Parses a Submission frame body (proto/relay.proto) and checks it the way the relay answers it:
//  - malformed: not a Submission, an access key that is not 16 bytes, an empty envelope, a
//    destination that is not UTF-8;
//  - invalid_argument: a token (not accepted yet); SSv1 without exactly one recipient or devices;
//    SSv2 without recipients;
//  - unknown_destination: no entry of `peers` serves the destination provider;
//  - invalid_service_id / invalid_device_id (1..127): an SSv1 recipient's; duplicate_recipient:
//    an SSv1 device listed twice (SSv2: a recipient or device twice, as SentMessage::parse says);
//  - unknown_version: an envelope that is neither SSv1 (version nibble 0 or 1) nor an SSv2 sent
//    message; the SSv2 parse errors of crypto::SentMessage::parse.
// For SSv2 the recipients are read from the sent message; none are added beside it. An SSv1
// recipient's service id travels in canonical form (ServiceId::to_string), whatever its case.
ParsedSubmission parse_submission(ByteView frame, std::span<const PeerConfig> peers);

}  // namespace veil::relay

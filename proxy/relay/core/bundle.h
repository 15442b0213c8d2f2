// Opening a delivered bundle at the destination's relay: one access-key check for SSv1 and SSv2,
// then one Delivery per recipient (SSv2 fanned out). Pure; the deliver stage and a fuzz target
// call it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "proxy/relay/core/config.h"

namespace veil::relay {

class Delivery;  // proto/relay.proto

// Opens the plaintext of a deliver layer (a serialized relay.Payload with a bundle) for the
// recipients this relay serves. Each Delivery gets recipient, access_key, envelope (SSv2: the
// recipient's received message) and `stamp` as server_timestamp; delivery_id is left 0.
// The access check (Signal-Server's rule): the presented 16-byte key must equal the recipient's
// key (SSv1), or the XOR of every restricted recipient's key (SSv2; unrestricted recipients add
// nothing), compared in constant time.
// Errors: malformed (not a bundle, empty envelope, key not 16 bytes, SSv1 without exactly one
// recipient, an unparsable SSv2 message); unknown_recipient (a recipient not in `recipients`);
// access_denied (the key does not match).
Result<std::vector<Delivery>> open_bundle(ByteView payload,
                                          const std::map<std::string, RecipientAccess>& recipients,
                                          uint64_t stamp);

}  // namespace veil::relay

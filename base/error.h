// The one error vocabulary of Veil: reason codes with stable names and readable messages.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace veil {

// X(name, message). Cryptographic failures all surface as `decryption_failed` so that a caller
// outside learns nothing about which check failed (no oracle). New codes go at the end (the
// numbers index the relay's per-reason counters, at most 32 codes: proxy/relay/core/metrics.h).
// The codes after `internal` are those of signed descriptors and directories and of a relay's key
// directory (docs/directory.md).
#define VEIL_ERRORS(X)                                                                          \
  X(ok, "ok")                                                                                   \
  X(malformed, "input is malformed")                                                            \
  X(truncated, "input is truncated")                                                            \
  X(unknown_version, "unknown or unsupported version")                                         \
  X(invalid_key, "key has the wrong length or type")                                            \
  X(invalid_key_agreement, "key agreement produced an all-zero secret")                         \
  X(decryption_failed, "message could not be decrypted or authenticated")                       \
  X(untrusted_certificate, "sender certificate is not valid for the trust roots at this time")  \
  X(unknown_server_certificate, "sender certificate names an unknown server certificate id")    \
  X(self_send, "message was sent by this very device")                                          \
  X(invalid_device_id, "device id must be 1..127")                                              \
  X(invalid_registration_id, "registration id does not fit in 14 bits")                         \
  X(duplicate_recipient, "recipient or device listed twice")                                    \
  X(invalid_service_id, "service id is not a UUID or PNI:UUID")                                 \
  X(invalid_argument, "argument out of range")                                                  \
  X(too_large, "input exceeds the size limit")                                                  \
  X(unknown_destination, "destination provider is not in the directory")                        \
  X(access_denied, "access proof does not match the recipient")                                 \
  X(unknown_recipient, "recipient is not served by this relay")                                 \
  X(busy, "relay is at capacity, retry later")                                                  \
  X(unavailable, "relay cannot write its journal; nothing was accepted, retry later")           \
  X(draining, "relay is shutting down; retry later")                                            \
  X(epoch_expired, "layer is under an epoch key this relay no longer holds")                    \
  X(internal, "internal error")                                                                 \
  X(bad_signature, "signature does not verify under its key")                                   \
  X(insufficient_signatures, "fewer valid directory authority signatures than the threshold")   \
  X(not_yet_valid, "not valid yet at this time")                                                \
  X(expired, "no longer valid at this time")                                                    \
  X(duplicate_entry, "a relay name, identity key or address is listed twice")                   \
  X(missing_epoch_keys, "epoch public keys do not cover the validity period")                   \
  X(insecure_permissions, "group or others may access it, or another user owns it")             \
  X(already_exists, "it already exists")                                                        \
  X(io_error, "a file could not be read or written")                                            \
  X(invalid_utf8, "text is not valid UTF-8")

enum class Error : int {
#define VEIL_ERROR_ENUM(name, msg) name,
  VEIL_ERRORS(VEIL_ERROR_ENUM)
#undef VEIL_ERROR_ENUM
};

// How many codes there are (they are dense from 0).
inline constexpr std::size_t kErrorCount = 0
#define VEIL_ERROR_COUNT(name, msg) +1
    VEIL_ERRORS(VEIL_ERROR_COUNT)
#undef VEIL_ERROR_COUNT
    ;

// Stable reason code, e.g. "decryption_failed".
std::string_view error_name(Error e) noexcept;
// One readable sentence for humans.
std::string_view error_message(Error e) noexcept;

// A value or an Error; never both. Errors are returned, not thrown.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(error) {}         // NOLINT: implicit by design

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  Error error() const noexcept { return error_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Error error_ = Error::ok;
};

}  // namespace veil

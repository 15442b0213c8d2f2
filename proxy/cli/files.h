// Whole-file reads and writes for the CLI, with size limits and private-key file modes.
#pragma once

#include <string>

#include "base/bytes.h"
#include "crypto/certificate.h"
#include "crypto/keys.h"

namespace veil::cli {

// Thrown for any user-facing failure; main prints "veil: <what>" and exits non-zero.
struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMaxInputFile = 64u << 20;

Bytes read_file(const std::string& path);             // "-" is stdin
void write_file(const std::string& path, ByteView data, bool secret = false);  // "-" is stdout

crypto::PrivateKey read_private_key(const std::string& path);
crypto::PublicKey read_public_key(const std::string& path);
crypto::ServerCertificate read_server_certificate(const std::string& path);
crypto::SenderCertificate read_sender_certificate(const std::string& path);

// "what: reason_code: message"
[[noreturn]] void fail(const std::string& what, Error e);

}  // namespace veil::cli

// Fuzzes SenderCertificate::parse and ServerCertificate::parse (and validation of what parses).
#include "base/utf8.h"
#include "crypto/certificate.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  if (auto server = ServerCertificate::parse(in)) {
    fuzz::check(server->serialized.size() == size);
    fuzz::check(!validate_server_certificate(*server, fuzz::world().policy()) ||
                server->key_id != kRevokedTestKeyId);
  }
  if (auto sender = SenderCertificate::parse(in)) {
    fuzz::check(sender->sender_device >= 1 && sender->sender_device <= 127);
    fuzz::check(sender->signer.has_value() != sender->signer_id.has_value());
    // Protobuf strings are UTF-8 (as libsignal's decoder requires): the CLI prints them as JSON.
    fuzz::check(is_valid_utf8(sender->sender_uuid));
    fuzz::check(!sender->sender_e164 || is_valid_utf8(*sender->sender_e164));
    const Error e = validate_sender_certificate(*sender, fuzz::world().policy(), fuzz::kNow);
    fuzz::check(e == Error::ok || e == Error::untrusted_certificate ||
                e == Error::unknown_server_certificate);
  }
  return 0;
}

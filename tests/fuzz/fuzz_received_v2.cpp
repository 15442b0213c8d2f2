// Fuzzes decrypt_v2, and open_sealed on what decrypts, for v2 received messages (first byte forced to 0x2?).
#include "crypto/sealed_sender.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::FuzzWorld& w = fuzz::world();
  Bytes in(data, data + size);
  in[0] = static_cast<uint8_t>(0x20 | (in[0] & 0x0F));
  auto v2 = decrypt_v2(in, w.recipient);
  if (!v2) return 0;  // open_sealed would fail the same way; skip its second X25519
  CertificateValidator validator(w.policy());
  auto opened = open_sealed(in, w.recipient, validator, fuzz::kNow);
  if (opened) {
    fuzz::check(opened->version == 2 && opened->content.sender.serialized.size() > 0);
    fuzz::check(verify_v2_sender(*v2, w.recipient, opened->content.sender.identity_key));
  }
  return 0;
}

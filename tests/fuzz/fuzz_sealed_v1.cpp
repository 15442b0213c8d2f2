// Fuzzes decrypt_v1 with a fixed recipient key pair, and open_sealed on the same bytes.
#include "crypto/sealed_sender.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzWorld& w = fuzz::world();
  const ByteView in(data, size);
  auto v1 = decrypt_v1(in, w.recipient);
  if (v1) fuzz::check(size > 0 && (data[0] >> 4) <= 1);
  CertificateValidator validator(w.policy());
  auto opened = open_sealed(in, w.recipient, validator, fuzz::kNow);
  if (opened && opened->version == 1) {
    fuzz::check(v1.ok());
    fuzz::check(opened->content.sender.identity_key == v1->sender_static);
  }
  return 0;
}

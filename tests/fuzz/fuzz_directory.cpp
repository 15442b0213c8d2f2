// Fuzzes directory parsing and k-of-n verification (verify_directory, read_directory) with fixed
// authority keys; an accepted directory must keep every promise of directory.h, and a second
// authority's signature added to it must verify at threshold 2.
#include <string_view>

#include "fuzz_directory_world.h"
#include "proxy/relay/core/directory.h"

using namespace veil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::DirectoryWorld& w = fuzz::directory_world();
  const auto keys = w.authorities();
  std::string detail;
  auto read = relay::read_directory(text, &detail);
  fuzz::check(read.ok() || !detail.empty());
  auto d = relay::verify_directory(text, keys, 1, fuzz::kDirectoryNowS, &detail);
  if (!d) {
    fuzz::check(!detail.empty());
    return 0;
  }
  fuzz::check(read.ok());
  fuzz::check(!d->signed_by.empty() && d->signed_by.size() <= d->signature_entries);
  fuzz::check(!d->relays.empty() && d->relays.size() <= relay::kMaxRelays);
  fuzz::check(d->valid_after_unix_s <= fuzz::kDirectoryNowS && fuzz::kDirectoryNowS < d->valid_until_unix_s);
  fuzz::check(d->first_epoch <= d->last_epoch);
  for (const relay::Descriptor& r : d->relays) {
    fuzz::check(relay::check_descriptor(r) == Error::ok);
    fuzz::check(r.epoch_key(d->first_epoch) != nullptr && r.epoch_key(d->last_epoch) != nullptr);
    fuzz::check(d->find(r.name) == &r && d->find(r.identity_key) == &r);
  }
  bool b_signed = false;
  for (const auto& k : d->signed_by) b_signed = b_signed || k == w.authority_b.public_key();
  if (!b_signed && d->signature_entries < relay::kMaxSignatures) {
    auto both = relay::add_signature(text, w.authority_b);
    // B may already have an entry that does not verify; then adding is refused as a duplicate.
    if (both) {
      auto again = relay::verify_directory(*both, keys, 2, fuzz::kDirectoryNowS);
      fuzz::check(again.ok() && again->serial == d->serial && again->relays.size() == d->relays.size());
    } else {
      fuzz::check(both.error() == Error::duplicate_entry || both.error() == Error::too_large);
    }
  }
  return 0;
}

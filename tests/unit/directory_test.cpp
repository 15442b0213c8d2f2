// The signed relay directory: k-of-n authority signatures, validity, duplicates, tampered
// descriptors, epoch-key coverage, strict parsing and size bounds.
#include <boost/test/unit_test.hpp>

#include "directory_support.h"
#include "proxy/relay/core/directory.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;
using namespace veil::test;
using nlohmann::json;

namespace {

struct Net {
  SeededRng rng{21};
  crypto::IdentityKey a = crypto::IdentityKey::generate(rng);
  crypto::IdentityKey b = crypto::IdentityKey::generate(rng);
  crypto::IdentityKey c = crypto::IdentityKey::generate(rng);
  crypto::IdentityKey stranger = crypto::IdentityKey::generate(rng);
  std::vector<TestRelay> relays;
  std::vector<crypto::IdentityPublicKey> abc{a.public_key(), b.public_key(), c.public_key()};

  Net() {
    relays.push_back(make_relay(rng, "prov-a", "10.0.0.3:7000", {"alice.example"}));
    relays.push_back(make_relay(rng, "mix-1", "10.0.0.1:7000"));
    relays.push_back(make_relay(rng, "mix-2", "[2001:db8::2]:7000"));
  }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const TestRelay& r : relays) out.push_back(r.text);
    return out;
  }

  DirectoryContents contents() const {
    DirectoryContents out;
    out.network = "testnet";
    out.serial = 7;
    out.valid_after_unix_s = kValidAfter;
    out.valid_until_unix_s = kValidUntil;
    out.schedule = kSchedule;
    out.descriptors = texts();
    return out;
  }

  std::string signed_by_a() const {
    std::string detail;
    auto t = create_directory(contents(), a, &detail);
    BOOST_REQUIRE_MESSAGE(t.ok(), detail);
    return *t;
  }
};

Error verify_error(const std::string& text, std::span<const crypto::IdentityPublicKey> keys,
                   std::size_t k, int64_t now = kValidAfter + 10, std::string* detail = nullptr) {
  auto d = verify_directory(text, keys, k, now, detail);
  return d ? Error::ok : d.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(directory)

BOOST_AUTO_TEST_CASE(one_of_one) {
  Net w;
  const std::string text = w.signed_by_a();
  const std::vector<crypto::IdentityPublicKey> only_a{w.a.public_key()};
  std::string detail;
  auto d = verify_directory(text, only_a, 1, kValidAfter, &detail);
  BOOST_REQUIRE_MESSAGE(d.ok(), detail);
  BOOST_TEST(d->network == "testnet");
  BOOST_TEST(d->serial == 7u);
  BOOST_TEST((d->schedule == kSchedule));
  BOOST_TEST(d->first_epoch == 0u);
  BOOST_TEST(d->last_epoch == 9u);  // kValidUntil - 1 = genesis + 35999 s: epoch 9
  BOOST_TEST(d->signed_by.size() == 1u);
  BOOST_TEST(d->signature_entries == 1u);
  BOOST_REQUIRE(d->relays.size() == 3u);
  // Sorted by name, each the descriptor that was signed.
  BOOST_TEST(d->relays[0].name == "mix-1");
  BOOST_TEST(d->relays[2].name == "prov-a");
  BOOST_TEST((d->relays[2] == w.relays[0].descriptor));
  BOOST_TEST(d->contains("mix-2"));
  BOOST_TEST(!d->contains("mix-3"));
  BOOST_TEST(d->find(w.relays[1].identity.public_key())->name == "mix-1");
  BOOST_TEST(d->find(w.stranger.public_key()) == nullptr);
  BOOST_TEST(lists(*d, "mix-1", w.relays[1].identity.public_key()));
  BOOST_TEST(!lists(*d, "mix-1", w.relays[2].identity.public_key()));
  BOOST_TEST(!lists(*d, "mix-3", w.relays[1].identity.public_key()));
  // The signature covers "veil-directory-v1\0" || body bytes.
  const json file = json::parse(text);
  const Bytes sig = unhex(file["signatures"][0]["signature"].get<std::string>());
  crypto::IdentitySignature s{};
  std::copy(sig.begin(), sig.end(), s.begin());
  BOOST_TEST(w.a.public_key().verify(
      message_of(std::string_view("veil-directory-v1\0", 18), file["body"].get<std::string>()), s));
}

BOOST_AUTO_TEST_CASE(two_of_three_with_one_missing) {
  Net w;
  const std::string by_a = w.signed_by_a();
  std::string detail;
  auto by_ab = add_signature(by_a, w.b, &detail);
  BOOST_REQUIRE_MESSAGE(by_ab.ok(), detail);
  BOOST_TEST(body_of(*by_ab) == body_of(by_a));  // the body bytes are untouched
  auto d = verify_directory(*by_ab, w.abc, 2, kValidAfter + 10, &detail);
  BOOST_REQUIRE_MESSAGE(d.ok(), detail);
  BOOST_TEST(d->signed_by.size() == 2u);
  BOOST_TEST(verify_error(*by_ab, w.abc, 3, kValidAfter + 10, &detail) == Error::insufficient_signatures);
  // Signing twice with one authority key is refused.
  BOOST_TEST(add_signature(*by_ab, w.a).error() == Error::duplicate_entry);
  // The third signature completes 3 of 3.
  auto by_abc = add_signature(*by_ab, w.c);
  BOOST_REQUIRE(by_abc.ok());
  BOOST_TEST(verify_error(*by_abc, w.abc, 3) == Error::ok);
}

BOOST_AUTO_TEST_CASE(below_threshold_unknown_wrong_and_invalid_signatures) {
  Net w;
  const std::string body = body_of(w.signed_by_a());
  std::string detail;
  // Below the threshold.
  BOOST_TEST(verify_error(signed_directory(body, {&w.a}), w.abc, 2, kValidAfter, &detail) ==
             Error::insufficient_signatures);
  BOOST_TEST(detail.find("1 valid signature") != std::string::npos);
  // A signature by a key nobody listed does not count.
  BOOST_TEST(verify_error(signed_directory(body, {&w.a, &w.stranger}), w.abc, 2) ==
             Error::insufficient_signatures);
  BOOST_TEST(verify_error(signed_directory(body, {&w.a, &w.stranger, &w.b}), w.abc, 2) == Error::ok);
  // Signed only by the wrong authority.
  const std::vector<crypto::IdentityPublicKey> only_a{w.a.public_key()};
  BOOST_TEST(verify_error(signed_directory(body, {&w.b}), only_a, 1) == Error::insufficient_signatures);
  // One authority's signature repeated counts once.
  BOOST_TEST(verify_error(signed_directory(body, {&w.a, &w.a}), w.abc, 2) == Error::insufficient_signatures);
  // An authority listed twice by the caller is one authority.
  const std::vector<crypto::IdentityPublicKey> a_twice{w.a.public_key(), w.a.public_key()};
  BOOST_TEST(verify_error(signed_directory(body, {&w.a}), a_twice, 2) == Error::invalid_argument);
  // An invalid signature does not count, even by a listed key.
  json file = json::parse(signed_directory(body, {&w.a, &w.b}));
  std::string sig = file["signatures"][1]["signature"];
  sig[5] = sig[5] == '0' ? '1' : '0';
  file["signatures"][1]["signature"] = sig;
  BOOST_TEST(verify_error(file.dump(), w.abc, 2) == Error::insufficient_signatures);
  BOOST_TEST(verify_error(file.dump(), w.abc, 1) == Error::ok);
  // Another directory's signature does not carry over.
  json other = json::parse(body);
  other["serial"] = 8;
  json mixed = json::parse(signed_directory(other.dump(), {&w.b}));
  mixed["signatures"].push_back(json::parse(signed_directory(body, {&w.a}))["signatures"][0]);
  BOOST_TEST(verify_error(mixed.dump(), w.abc, 2) == Error::insufficient_signatures);
  // Unsigned.
  BOOST_TEST(verify_error(signed_directory(body, {}), w.abc, 1, kValidAfter, &detail) ==
             Error::insufficient_signatures);
  BOOST_TEST(detail.find("not signed") != std::string::npos);
  // A threshold of 0 or above the number of authorities is the caller's mistake.
  BOOST_TEST(verify_error(signed_directory(body, {&w.a}), w.abc, 0) == Error::invalid_argument);
  BOOST_TEST(verify_error(signed_directory(body, {&w.a}), w.abc, 4) == Error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(validity_window) {
  Net w;
  const std::string text = w.signed_by_a();
  BOOST_TEST(verify_error(text, w.abc, 1, kValidAfter) == Error::ok);
  BOOST_TEST(verify_error(text, w.abc, 1, kValidUntil - 1) == Error::ok);
  BOOST_TEST(verify_error(text, w.abc, 1, kValidAfter - 1) == Error::not_yet_valid);
  BOOST_TEST(verify_error(text, w.abc, 1, kValidUntil) == Error::expired);
  BOOST_TEST(verify_error(text, w.abc, 1, kValidUntil + 86'400) == Error::expired);
  // valid_until must follow valid_after.
  DirectoryContents c = w.contents();
  c.valid_until_unix_s = c.valid_after_unix_s;
  BOOST_TEST(create_directory(c, w.a).error() == Error::malformed);
  c = w.contents();
  c.schedule.length_s = 30;
  BOOST_TEST(create_directory(c, w.a).error() == Error::invalid_argument);
  // A network name that is not UTF-8 is refused before the body is written.
  c = w.contents();
  c.network = "net\xff";
  BOOST_TEST(create_directory(c, w.a).error() == Error::malformed);
}

BOOST_AUTO_TEST_CASE(duplicates_are_refused) {
  Net w;
  std::string detail;
  // Two relays with one name (different keys).
  DirectoryContents c = w.contents();
  c.descriptors.push_back(make_relay(w.rng, "mix-1", "10.0.0.9:7000").text);
  BOOST_TEST(create_directory(c, w.a, &detail).error() == Error::duplicate_entry);
  BOOST_TEST(verify_error(signed_directory(directory_body(c.descriptors).dump(), {&w.a}), w.abc, 1,
                          kValidAfter, &detail) == Error::duplicate_entry);
  BOOST_TEST(detail.find("named \"mix-1\"") != std::string::npos);
  // Two relays with one identity key (different names).
  Descriptor twin = w.relays[1].descriptor;
  twin.name = "mix-twin";
  twin.addresses = {"10.0.0.8:7000"};
  c = w.contents();
  c.descriptors.push_back(*sign_descriptor(twin, w.relays[1].identity));
  BOOST_TEST(create_directory(c, w.a).error() == Error::duplicate_entry);
  BOOST_TEST(verify_error(signed_directory(directory_body(c.descriptors).dump(), {&w.a}), w.abc, 1,
                          kValidAfter, &detail) == Error::duplicate_entry);
  BOOST_TEST(detail.find("identity key") != std::string::npos);
  // Two relays on one address, spelled differently.
  c = w.contents();
  c.descriptors.push_back(make_relay(w.rng, "mix-3", "[2001:db8:0::2]:7000").text);
  BOOST_TEST(verify_error(signed_directory(directory_body(c.descriptors).dump(), {&w.a}), w.abc, 1,
                          kValidAfter, &detail) == Error::duplicate_entry);
  BOOST_TEST(detail.find("share the address") != std::string::npos);
  // The same descriptor twice.
  c = w.contents();
  c.descriptors.push_back(w.relays[0].text);
  BOOST_TEST(create_directory(c, w.a).error() == Error::duplicate_entry);
}

BOOST_AUTO_TEST_CASE(tampered_descriptor_inside_a_signed_directory) {
  Net w;
  json body = json::parse(body_of(w.signed_by_a()));
  // Change mix-1's address inside its descriptor body, keep its signature; the authority signs.
  for (json& r : body["relays"]) {
    json inner = json::parse(r["body"].get<std::string>());
    if (inner["name"] != "mix-1") continue;
    inner["addresses"] = {"10.6.6.6:7000"};
    r["body"] = inner.dump();
  }
  std::string detail;
  BOOST_TEST(verify_error(signed_directory(body.dump(), {&w.a}), w.abc, 1, kValidAfter, &detail) ==
             Error::bad_signature);
  BOOST_TEST(detail.find("mix-1") != std::string::npos);
  // create_directory refuses such a descriptor too.
  DirectoryContents c = w.contents();
  c.descriptors[1] = json{{"format", kDescriptorFormat},
                          {"body", json::parse(body_of(w.relays[1].text)).dump(1)},
                          {"signature", json::parse(w.relays[1].text)["signature"]}}
                         .dump();
  BOOST_TEST(create_directory(c, w.a).error() == Error::bad_signature);
}

BOOST_AUTO_TEST_CASE(epoch_keys_must_cover_the_validity) {
  Net w;
  DirectoryContents c = w.contents();
  // Epochs 0..9 overlap the validity; keys for 0..8 only fall short, 1..24 miss epoch 0.
  c.descriptors.push_back(make_relay(w.rng, "mix-short", "10.0.0.7:7000", {}, 0, 9).text);
  std::string detail;
  BOOST_TEST(create_directory(c, w.a, &detail).error() == Error::missing_epoch_keys);
  BOOST_TEST(detail.find("mix-short") != std::string::npos);
  BOOST_TEST(verify_error(signed_directory(directory_body(c.descriptors).dump(), {&w.a}), w.abc, 1) ==
             Error::missing_epoch_keys);
  c = w.contents();
  c.descriptors.push_back(make_relay(w.rng, "mix-late", "10.0.0.7:7000", {}, 1, 24).text);
  BOOST_TEST(create_directory(c, w.a).error() == Error::missing_epoch_keys);
  c = w.contents();
  c.descriptors.push_back(make_relay(w.rng, "mix-exact", "10.0.0.7:7000", {}, 0, 10).text);
  BOOST_TEST(create_directory(c, w.a).ok());
  // A validity that ends at genesis has no epoch.
  c = w.contents();
  c.valid_after_unix_s = kGenesis - 1000;
  c.valid_until_unix_s = kGenesis;
  BOOST_TEST(create_directory(c, w.a).error() == Error::malformed);
  // Starting before genesis: keys from epoch 0 are needed.
  c.valid_until_unix_s = kGenesis + 10;
  BOOST_TEST(create_directory(c, w.a).ok());
}

BOOST_AUTO_TEST_CASE(bad_json_wrong_format_and_oversized) {
  Net w;
  const std::string text = w.signed_by_a();
  const std::string body = body_of(text);
  std::string detail;
  BOOST_TEST(verify_error("", w.abc, 1) == Error::malformed);
  BOOST_TEST(verify_error("{", w.abc, 1) == Error::malformed);
  BOOST_TEST(verify_error("\"veil-directory/1\"", w.abc, 1) == Error::malformed);
  BOOST_TEST(verify_error(text.substr(0, text.size() / 2), w.abc, 1) == Error::malformed);
  json f = json::parse(text);
  f["format"] = "veil-directory/2";
  BOOST_TEST(verify_error(f.dump(), w.abc, 1) == Error::unknown_version);
  f = json::parse(text);
  f["format"] = "veil-descriptor/1";
  BOOST_TEST(verify_error(f.dump(), w.abc, 1) == Error::unknown_version);
  f = json::parse(text);
  f["comment"] = "hi";
  BOOST_TEST(verify_error(f.dump(), w.abc, 1) == Error::malformed);
  f = json::parse(text);
  f["signatures"][0]["key"] = "zz";
  BOOST_TEST(verify_error(f.dump(), w.abc, 1) == Error::malformed);
  f = json::parse(text);
  f["signatures"] = json::array();
  for (int i = 0; i < 17; ++i) f["signatures"].push_back(json::parse(text)["signatures"][0]);
  BOOST_TEST(verify_error(f.dump(), w.abc, 1) == Error::too_large);
  // A key given twice in the outer object.
  std::string twice = text;
  twice.insert(twice.find('{') + 1, "\"body\":\"{}\",");
  BOOST_TEST(verify_error(twice, w.abc, 1, kValidAfter, &detail) == Error::malformed);
  // Oversized file.
  BOOST_TEST(verify_error(text + std::string(kMaxDirectoryBytes, ' '), w.abc, 1) == Error::too_large);
  // Signed bodies that break the format.
  const auto body_error = [&](const std::function<void(json&)>& edit) {
    json b = json::parse(body);
    edit(b);
    return verify_error(signed_directory(b.dump(), {&w.a}), w.abc, 1);
  };
  BOOST_TEST(body_error([](json&) {}) == Error::ok);
  BOOST_TEST(body_error([](json& b) { b["version"] = 2; }) == Error::unknown_version);
  BOOST_TEST(body_error([](json& b) { b["extra"] = 1; }) == Error::malformed);
  BOOST_TEST(body_error([](json& b) { b.erase("serial"); }) == Error::malformed);
  BOOST_TEST(body_error([](json& b) { b["serial"] = -1; }) == Error::malformed);
  BOOST_TEST(body_error([](json& b) { b["network"] = ""; }) == Error::malformed);
  BOOST_TEST(body_error([](json& b) { b["relays"] = json::array(); }) == Error::malformed);
  BOOST_TEST(body_error([](json& b) { b["relays"][0]["format"] = "veil-descriptor/9"; }) ==
             Error::unknown_version);
  BOOST_TEST(body_error([](json& b) { b["epoch_schedule"]["length"] = 0; }) == Error::invalid_argument);
  BOOST_TEST(body_error([](json& b) { b["valid_until"] = 253'402'300'800LL; }) == Error::invalid_argument);
  BOOST_TEST(body_error([](json& b) { b["relays"] = std::vector<json>(1001, b["relays"][0]); }) ==
             Error::too_large);
  BOOST_TEST(body_error([](json& b) { b["relays"][0]["x"] = {{"y", {{"z", 1}}}}; }) == Error::malformed);
  // read_directory checks the body without signatures or time.
  BOOST_TEST(read_directory(signed_directory(body, {})).ok());
}

BOOST_AUTO_TEST_CASE(dropped_relays_between_directories) {
  Net w;
  auto older = read_directory(w.signed_by_a());
  BOOST_REQUIRE(older.ok());
  DirectoryContents c = w.contents();
  c.serial = 8;
  c.descriptors.erase(c.descriptors.begin() + 1);  // mix-1
  auto newer = read_directory(*create_directory(c, w.a));
  BOOST_REQUIRE(newer.ok());
  BOOST_TEST(dropped_relays(*older, *newer) == std::vector<std::string>{"mix-1"});
  BOOST_TEST(dropped_relays(*newer, *older).empty());
}

BOOST_AUTO_TEST_SUITE_END()

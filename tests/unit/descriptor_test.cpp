// Relay descriptors: sign/verify round trip, every body field tampered, wrong keys, field rules,
// strict parsing and size bounds.
#include <boost/test/unit_test.hpp>

#include <functional>

#include "directory_support.h"
#include "proxy/relay/core/descriptor.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;
using namespace veil::test;
using nlohmann::json;

namespace {

Error verify_error(const std::string& text, std::string* detail = nullptr) {
  auto d = verify_descriptor(text, detail);
  return d ? Error::ok : d.error();
}

// `r`'s descriptor with `edit` applied, signed again by its identity key: the error of signing.
Error sign_error(const TestRelay& r, const std::function<void(Descriptor&)>& edit) {
  Descriptor d = r.descriptor;
  edit(d);
  auto t = sign_descriptor(d, r.identity);
  return t ? Error::ok : t.error();
}

// `r`'s body with `edit` applied to its JSON, signed by `r`'s identity key: the verify error.
Error signed_body_error(const TestRelay& r, const std::function<void(json&)>& edit) {
  json body = json::parse(body_of(r.text));
  edit(body);
  return verify_error(signed_descriptor(body.dump(), r.identity));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(descriptor)

BOOST_AUTO_TEST_CASE(sign_verify_round_trip) {
  SeededRng rng(11);
  const TestRelay r = make_relay(rng, "prov-a", "10.0.0.1:7000", {"alice.example", "bob.example"}, 5, 24);
  std::string detail;
  auto d = verify_descriptor(r.text, &detail);
  BOOST_REQUIRE_MESSAGE(d.ok(), detail);
  BOOST_TEST((*d == r.descriptor));
  BOOST_TEST(!d->is_mix());
  BOOST_TEST(verify_descriptor(r.text, r.identity.public_key()).ok());
  // The exact signed bytes: the prefix ends in one NUL byte.
  BOOST_TEST(kDescriptorSigningPrefix.size() == 19u);
  BOOST_TEST(kDescriptorSigningPrefix.back() == '\0');
  const json file = json::parse(r.text);
  {
    const Bytes sig = unhex(file.at("signature").get<std::string>());
    crypto::IdentitySignature s{};
    std::copy(sig.begin(), sig.end(), s.begin());
    BOOST_TEST(r.identity.public_key().verify(
        message_of(std::string_view("veil-descriptor-v1\0", 19), file.at("body").get<std::string>()), s));
  }
}

BOOST_AUTO_TEST_CASE(epoch_key_lookup) {
  SeededRng rng(12);
  const TestRelay r = make_relay(rng, "mix-1", "10.0.0.2:7000", {}, 10, 4);
  BOOST_TEST(r.descriptor.is_mix());
  BOOST_TEST(r.descriptor.epoch_key(9) == nullptr);
  BOOST_REQUIRE(r.descriptor.epoch_key(10) != nullptr);
  BOOST_TEST((*r.descriptor.epoch_key(13) == r.descriptor.epoch_keys[3].key));
  BOOST_TEST(r.descriptor.epoch_key(14) == nullptr);
}

BOOST_AUTO_TEST_CASE(every_field_tampered_is_refused) {
  SeededRng rng(13);
  const TestRelay r = make_relay(rng, "prov-a", "10.0.0.1:7000", {"alice.example"}, 5, 3);
  const crypto::IdentityKey other = crypto::IdentityKey::generate(rng);
  const std::vector<std::pair<std::string, std::function<void(json&)>>> edits = {
      {"name", [](json& b) { b["name"] = "prov-b"; }},
      {"identity_key", [&](json& b) { b["identity_key"] = to_hex(other.public_key().raw()); }},
      {"addresses", [](json& b) { b["addresses"] = {"10.0.0.9:7000"}; }},
      {"addresses added", [](json& b) { b["addresses"].push_back("10.0.0.9:7000"); }},
      {"providers", [](json& b) { b["providers"] = {"mallory.example"}; }},
      {"providers removed", [](json& b) { b["providers"] = json::array(); }},
      {"published", [](json& b) { b["published"] = b["published"].get<int64_t>() + 1; }},
      {"epoch number", [](json& b) {
         for (auto& k : b["epoch_keys"]) k["epoch"] = k["epoch"].get<uint64_t>() + 1;
       }},
      {"epoch key", [](json& b) {
         std::string k = b["epoch_keys"][1]["key"];
         k[10] = k[10] == 'a' ? 'b' : 'a';
         b["epoch_keys"][1]["key"] = k;
       }},
      {"epoch key dropped", [](json& b) { b["epoch_keys"].erase(2); }},
  };
  const std::string signature = json::parse(r.text).at("signature");
  for (const auto& [what, edit] : edits) {
    BOOST_TEST_CONTEXT(what) {
      json body = json::parse(body_of(r.text));
      edit(body);
      const std::string forged =
          json{{"format", kDescriptorFormat}, {"body", body.dump()}, {"signature", signature}}.dump();
      std::string detail;
      BOOST_TEST(verify_error(forged, &detail) == Error::bad_signature);
    }
  }
  // One byte of whitespace added to the body string also breaks the signature (exact bytes).
  const std::string spaced =
      json{{"format", kDescriptorFormat}, {"body", body_of(r.text) + " "}, {"signature", signature}}.dump();
  BOOST_TEST(verify_error(spaced) == Error::bad_signature);
  // So does a flipped signature bit.
  std::string sig = signature;
  sig[0] = sig[0] == '0' ? '1' : '0';
  BOOST_TEST(verify_error(json{{"format", kDescriptorFormat}, {"body", body_of(r.text)}, {"signature", sig}}
                              .dump()) == Error::bad_signature);
}

BOOST_AUTO_TEST_CASE(wrong_relay_key) {
  SeededRng rng(14);
  const TestRelay a = make_relay(rng, "mix-a", "10.0.0.1:7000");
  const TestRelay b = make_relay(rng, "mix-b", "10.0.0.2:7000");
  // Expecting another relay's key.
  std::string detail;
  auto d = verify_descriptor(a.text, b.identity.public_key(), &detail);
  BOOST_TEST(d.error() == Error::invalid_key);
  BOOST_TEST(detail.find("mix-a") != std::string::npos);
  // Signing with a key that is not the descriptor's identity key.
  auto t = sign_descriptor(a.descriptor, b.identity);
  BOOST_TEST(t.error() == Error::invalid_key);
  // A body naming a's identity key but signed by b's key.
  BOOST_TEST(verify_error(signed_descriptor(body_of(a.text), b.identity)) == Error::bad_signature);
}

BOOST_AUTO_TEST_CASE(field_rules) {
  SeededRng rng(15);
  const TestRelay r = make_relay(rng, "mix-1", "10.0.0.1:7000", {}, 0, 3);
  BOOST_TEST(sign_error(r, [](Descriptor&) {}) == Error::ok);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.version = 2; }) == Error::unknown_version);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = ""; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = std::string(255, 'n'); }) == Error::ok);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = std::string(256, 'n'); }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = "mix\n1"; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = "mix\xff"; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.name = "relais-\xc3\xa9t\xc3\xa9"; }) == Error::ok);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses.clear(); }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"relay.example:7000"}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"10.0.0.1:0"}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"10.0.0.1"}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"unix:/tmp/x"}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"[::1]:7000", "10.0.0.1:7000"}; }) == Error::ok);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.addresses = {"[::1]:7000", "[0:0::1]:7000"}; }) ==
             Error::duplicate_entry);
  BOOST_TEST(sign_error(r, [](Descriptor& d) {
               d.addresses.clear();
               for (int i = 0; i < 9; ++i) d.addresses.push_back("10.0.0." + std::to_string(i + 1) + ":7000");
             }) == Error::too_large);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.providers = {"a", "a"}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.providers = {""}; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.providers = std::vector<std::string>(65, "p"); }) ==
             Error::too_large);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.published_unix_s = -1; }) == Error::invalid_argument);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.epoch_keys.clear(); }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { d.epoch_keys[2].epoch = 7; }) == Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) { std::swap(d.epoch_keys[0], d.epoch_keys[1]); }) ==
             Error::malformed);
  BOOST_TEST(sign_error(r, [](Descriptor& d) {
               d.epoch_keys.resize(257, d.epoch_keys[0]);
               for (std::size_t i = 0; i < d.epoch_keys.size(); ++i) d.epoch_keys[i].epoch = i;
             }) == Error::too_large);
}

BOOST_AUTO_TEST_CASE(strict_parsing) {
  SeededRng rng(16);
  const TestRelay r = make_relay(rng, "mix-1", "10.0.0.1:7000", {}, 0, 3);
  std::string detail;
  BOOST_TEST(verify_error("", &detail) == Error::malformed);
  BOOST_TEST(verify_error("{\"format\":", &detail) == Error::malformed);
  BOOST_TEST(verify_error("[]", &detail) == Error::malformed);
  BOOST_TEST(verify_error(std::string(kMaxDescriptorBytes + 1, ' '), &detail) == Error::too_large);
  // The outer object.
  json file = json::parse(r.text);
  json f = file;
  f["format"] = "veil-descriptor/2";
  BOOST_TEST(verify_error(f.dump()) == Error::unknown_version);
  f = file;
  f["extra"] = 1;
  BOOST_TEST(verify_error(f.dump()) == Error::malformed);
  f = file;
  f.erase("signature");
  BOOST_TEST(verify_error(f.dump()) == Error::malformed);
  f = file;
  f["signature"] = "abcd";
  BOOST_TEST(verify_error(f.dump()) == Error::malformed);
  // A key given twice: refused, whichever value a reader would keep.
  std::string twice = r.text;
  twice.insert(twice.find('{') + 1, "\"format\":\"veil-descriptor/1\",");
  BOOST_TEST(verify_error(twice, &detail) == Error::malformed);
  BOOST_TEST(detail.find("twice") != std::string::npos);
  // Bodies signed by the right key but breaking the format.
  BOOST_TEST(signed_body_error(r, [](json& b) { b["version"] = 2; }) == Error::unknown_version);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["extra"] = true; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b.erase("providers"); }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["published"] = -5; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["published"] = 1.5; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["published"] = 253'402'300'800LL; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["name"] = 5; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["identity_key"] = "00"; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["epoch_keys"][0]["key"] = std::string(66, '0'); }) ==
             Error::malformed);  // not 0x05 first
  BOOST_TEST(signed_body_error(r, [](json& b) { b["epoch_keys"][0]["epoch"] = "0"; }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["addresses"] = json::array(); }) == Error::malformed);
  BOOST_TEST(signed_body_error(r, [](json& b) {
               b["addresses"] = std::vector<std::string>(9, "10.0.0.1:1");
             }) == Error::too_large);
  BOOST_TEST(signed_body_error(r, [](json& b) {
               json keys = json::array();
               for (int i = 0; i < 257; ++i) keys.push_back(b["epoch_keys"][0]);
               b["epoch_keys"] = keys;
             }) == Error::too_large);
  BOOST_TEST(signed_body_error(r, [](json& b) { b["addresses"] = {{{"deep", {{"deeper", {1}}}}}}; }) ==
             Error::malformed);
  // The unchanged body signed again still verifies.
  BOOST_TEST(signed_body_error(r, [](json&) {}) == Error::ok);
}

BOOST_AUTO_TEST_SUITE_END()

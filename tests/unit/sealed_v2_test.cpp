// seal_v2: argument checks, the SentMessage layout, and round trips through parse and decrypt (up to 1000 recipients).
#include <boost/test/unit_test.hpp>

#include "crypto/sealed_sender_v2.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::World;

namespace {

ServiceId nth_aci(uint32_t i) {
  ServiceId id;
  id.uuid[0] = 0x5A;
  for (int k = 0; k < 4; ++k) id.uuid[12 + k] = static_cast<uint8_t>(i >> (24 - 8 * k));
  return id;
}

SealRecipient one(World& w, uint32_t i, std::vector<Device> devices = {{1, 1}}) {
  return {nth_aci(i), std::move(devices), w.recipient.pub};
}

Error seal_error(World& w, std::span<const SealRecipient> rs, std::span<const ServiceId> ex = {}) {
  return seal_v2(w.usmc(), w.sender, rs, ex, w.rng).error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sealed_v2)

BOOST_AUTO_TEST_CASE(rejects_empty_recipient_list_and_empty_device_list) {
  World w;
  BOOST_TEST(seal_error(w, {}) == Error::invalid_argument);
  const SealRecipient r = one(w, 1, {});
  BOOST_TEST(seal_error(w, std::span(&r, 1)) == Error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(registration_id_must_fit_14_bits) {
  World w;
  const SealRecipient bad = one(w, 1, {{1, 0x4000}});
  BOOST_TEST(seal_error(w, std::span(&bad, 1)) == Error::invalid_registration_id);
  const SealRecipient worse = one(w, 1, {{2, 1}, {1, 0xFFFF}});
  BOOST_TEST(seal_error(w, std::span(&worse, 1)) == Error::invalid_registration_id);
  const SealRecipient max = one(w, 1, {{1, 0x3FFF}});
  BOOST_TEST(seal_v2(w.usmc(), w.sender, std::span(&max, 1), {}, w.rng).ok());
}

BOOST_AUTO_TEST_CASE(device_id_must_be_1_to_127) {
  World w;
  for (uint8_t id : {uint8_t{0}, uint8_t{128}, uint8_t{255}}) {
    const SealRecipient r = one(w, 1, {{id, 1}});
    BOOST_TEST(seal_error(w, std::span(&r, 1)) == Error::invalid_device_id, int{id});
  }
  const SealRecipient ok = one(w, 1, {{1, 1}, {127, 1}});
  BOOST_TEST(seal_v2(w.usmc(), w.sender, std::span(&ok, 1), {}, w.rng).ok());
}

BOOST_AUTO_TEST_CASE(duplicates_are_rejected) {
  World w;
  const SealRecipient twice[] = {one(w, 1), one(w, 1, {{2, 2}})};
  BOOST_TEST(seal_error(w, twice) == Error::duplicate_recipient);
  const SealRecipient dup_device = one(w, 1, {{3, 1}, {3, 2}});
  BOOST_TEST(seal_error(w, std::span(&dup_device, 1)) == Error::duplicate_recipient);
  const SealRecipient r = one(w, 1);
  const ServiceId same[] = {nth_aci(1)};
  BOOST_TEST(seal_error(w, std::span(&r, 1), same) == Error::duplicate_recipient);
  const ServiceId excluded_twice[] = {nth_aci(2), nth_aci(2)};
  BOOST_TEST(seal_error(w, std::span(&r, 1), excluded_twice) == Error::duplicate_recipient);
  // The same uuid as ACI and as PNI are two recipients.
  SealRecipient pni = one(w, 1);
  pni.service_id.kind = ServiceId::Kind::pni;
  const SealRecipient both[] = {one(w, 1), pni};
  BOOST_TEST(seal_v2(w.usmc(), w.sender, both, {}, w.rng).ok());
}

BOOST_AUTO_TEST_CASE(low_order_recipient_key_is_rejected) {
  World w;
  SealRecipient r = one(w, 1);
  r.identity_key = PublicKey::from_raw(Bytes(32, 0));
  const SealRecipient rs[] = {one(w, 2), r};
  BOOST_TEST(seal_error(w, rs) == Error::invalid_key_agreement);
}

BOOST_AUTO_TEST_CASE(single_recipient_layout_has_118_bytes_overhead) {
  World w;
  const Bytes usmc = w.usmc();
  const SealRecipient r = one(w, 7, {{5, 0x1234}});
  auto sent = seal_v2(usmc, w.sender, std::span(&r, 1), {}, w.rng);
  BOOST_TEST_REQUIRE(sent.ok());
  BOOST_TEST(sent->size() == usmc.size() + 118);
  const Bytes& s = *sent;
  BOOST_TEST(s[0] == kSentMessageVersion);
  BOOST_TEST(s[1] == 1);
  const auto fixed = nth_aci(7).fixed_width();
  BOOST_TEST(std::equal(fixed.begin(), fixed.end(), s.begin() + 2));
  BOOST_TEST(s[19] == 5);
  BOOST_TEST(s[20] == 0x12);
  BOOST_TEST(s[21] == 0x34);
}

BOOST_AUTO_TEST_CASE(devices_chain_and_excluded_follow_included) {
  World w;
  const SealRecipient r = one(w, 1, {{3, 0x2222}, {7, 0x3333}});
  SealRecipient r2 = one(w, 2);
  r2.service_id.kind = ServiceId::Kind::pni;
  const SealRecipient rs[] = {r, r2};
  const ServiceId ex[] = {nth_aci(3)};
  auto sent = seal_v2(w.usmc(), w.sender, rs, ex, w.rng);
  BOOST_TEST_REQUIRE(sent.ok());
  const Bytes& s = *sent;
  BOOST_TEST(s[1] == 3);
  BOOST_TEST(test::hexs(ByteView(s).subspan(19, 6)) == "03a222073333");
  const std::size_t second = 2 + 17 + 6 + 48;
  BOOST_TEST(s[second] == 1);  // PNI kind byte
  const std::size_t excluded = second + 17 + 3 + 48;
  const auto fixed = nth_aci(3).fixed_width();
  BOOST_TEST(std::equal(fixed.begin(), fixed.end(), s.begin() + static_cast<long>(excluded)));
  BOOST_TEST(s[excluded + 17] == 0);
  auto m = SentMessage::parse(s);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->recipients.size() == 2u);
  BOOST_TEST_REQUIRE(m->excluded.size() == 1u);
  BOOST_TEST(m->excluded[0] == nth_aci(3));
  BOOST_TEST(m->shared.size() == 32 + w.usmc().size() + 16);
}

BOOST_AUTO_TEST_CASE(same_seed_same_bytes) {
  World a, b;
  const SealRecipient ra = one(a, 1), rb = one(b, 1);
  BOOST_TEST(*seal_v2(a.usmc(), a.sender, std::span(&ra, 1), {}, a.rng) ==
             *seal_v2(b.usmc(), b.sender, std::span(&rb, 1), {}, b.rng));
}

BOOST_AUTO_TEST_CASE(every_recipient_decrypts_and_authenticates_the_sender) {
  World w;
  SeededRng rng(77);
  std::vector<KeyPair> keys;
  std::vector<SealRecipient> rs;
  for (uint32_t i = 0; i < 4; ++i) {
    keys.push_back(KeyPair::generate(rng));
    rs.push_back({nth_aci(i), {{1, 1}, {static_cast<uint8_t>(2 + i), 2}}, keys.back().pub});
  }
  const Bytes usmc = w.usmc();
  auto sent = seal_v2(usmc, w.sender, rs, {}, w.rng);
  BOOST_TEST_REQUIRE(sent.ok());
  auto m = SentMessage::parse(*sent);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(m->recipients[i].service_id == nth_aci(static_cast<uint32_t>(i)));
    BOOST_TEST(m->recipients[i].devices.size() == 2u);
    auto opened = decrypt_v2(m->received_message(i), keys[i]);
    BOOST_TEST_REQUIRE(opened.ok(), i);
    BOOST_TEST(opened->usmc == usmc);
    BOOST_TEST(verify_v2_sender(*opened, keys[i], w.sender.pub));
    BOOST_TEST(!verify_v2_sender(*opened, keys[i], w.recipient.pub));
    BOOST_TEST(decrypt_v2(m->received_message(i), keys[(i + 1) % 4]).error() ==
               Error::decryption_failed);
  }
}

BOOST_AUTO_TEST_CASE(thousand_recipients_seal_parse_and_decrypt) {
  World w;
  SeededRng rng(1000);
  std::vector<KeyPair> keys;
  std::vector<SealRecipient> rs;
  keys.reserve(1000);
  for (uint32_t i = 0; i < 1000; ++i) {
    keys.push_back(KeyPair::generate(rng));
    rs.push_back({nth_aci(i), {{static_cast<uint8_t>(1 + i % 127), static_cast<uint16_t>(i)}},
                  keys.back().pub});
  }
  const Bytes usmc = w.usmc();
  auto sent = seal_v2(usmc, w.sender, rs, {}, w.rng);
  BOOST_TEST_REQUIRE(sent.ok());
  BOOST_TEST(sent->size() == 1 + 2 + 1000 * (17 + 3 + 48) + 32 + usmc.size() + 16);
  auto m = SentMessage::parse(*sent);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == 1000u);
  for (std::size_t i : {0, 1, 499, 998, 999}) {
    BOOST_TEST(m->recipients[i].service_id == nth_aci(static_cast<uint32_t>(i)));
    BOOST_TEST(m->recipients[i].devices[0].registration_id == i);
    auto opened = decrypt_v2(m->received_message(i), keys[i]);
    BOOST_TEST_REQUIRE(opened.ok(), i);
    BOOST_TEST(opened->usmc == usmc);
    BOOST_TEST(verify_v2_sender(*opened, keys[i], w.sender.pub));
  }
}

BOOST_AUTO_TEST_SUITE_END()

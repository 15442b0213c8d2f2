// SentMessage::parse on hand-built inputs: accepted forms, fan-out bytes, and every rejection rule.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "crypto/sealed_sender_v2.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::World;

namespace {

void sid(Bytes& b, uint8_t kind, uint8_t fill) {
  b.push_back(kind);
  b.insert(b.end(), 16, fill);
}
void device(Bytes& b, uint8_t id, uint16_t reg, bool more) {
  b.push_back(id);
  const uint16_t v = static_cast<uint16_t>(reg | (more ? 0x8000 : 0));
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void key_material(Bytes& b, uint8_t fill) { b.insert(b.end(), 48, fill); }
void shared(Bytes& b, std::size_t n = 40) {
  for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(0xE0 + i % 16));
}

// 0x23, count 1: ACI 0xAA.. with device 5 (registration id 42), key material 0x11.., 40 shared bytes.
Bytes single() {
  Bytes b = {0x23, 0x01};
  sid(b, 0, 0xAA);
  device(b, 5, 42, false);
  key_material(b, 0x11);
  shared(b);
  return b;
}

Error parse_error(const Bytes& b) { return SentMessage::parse(b).error(); }

std::vector<Device> devices_of(const SentMessage::Recipient& r) {
  return {r.devices.begin(), r.devices.end()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sent_message)

BOOST_AUTO_TEST_CASE(single_recipient_parses) {
  const Bytes b = single();
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->version == 0x23);
  BOOST_TEST_REQUIRE(m->recipients.size() == 1u);
  const auto& r = m->recipients[0];
  BOOST_TEST(r.service_id.to_string() == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
  BOOST_TEST((devices_of(r) == std::vector<Device>{{5, 42}}));
  BOOST_TEST(hexs(r.key_material) == std::string(96, '1'));
  BOOST_TEST(m->shared.size() == 40u);
  BOOST_TEST(m->shared.data() == b.data() + b.size() - 40);
  BOOST_TEST(m->excluded.empty());
}

BOOST_AUTO_TEST_CASE(received_message_is_version_key_material_shared) {
  const Bytes b = single();
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  Bytes expected = {0x22};
  key_material(expected, 0x11);
  shared(expected);
  BOOST_TEST(m->received_message(0) == expected);
  BOOST_TEST(m->received_message(0).size() == 1 + 48 + m->shared.size());
  Bytes gathered;
  for (ByteView piece : m->received_pieces(0)) append(gathered, piece);
  BOOST_TEST(gathered == expected);
}

BOOST_AUTO_TEST_CASE(devices_chain_on_has_more_and_bit14_is_dropped) {
  Bytes b = {0x23, 0x01};
  sid(b, 1, 0xBB);
  device(b, 3, 0x2222, true);
  device(b, 7, 0x3333, true);
  b.insert(b.end(), {127, 0x40 | 0x01, 0x23});  // bit 14 set, has_more clear
  key_material(b, 0x22);
  shared(b, 32);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == 1u);
  BOOST_TEST(m->recipients[0].service_id.to_string() == "PNI:bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb");
  BOOST_TEST((devices_of(m->recipients[0]) == std::vector<Device>{{3, 0x2222}, {7, 0x3333}, {127, 0x0123}}));
}

BOOST_AUTO_TEST_CASE(excluded_recipients_are_listed) {
  Bytes b = {0x23, 0x03};
  sid(b, 0, 0xAA);
  device(b, 1, 1, false);
  key_material(b, 0x11);
  sid(b, 0, 0xCC);
  b.push_back(0);
  sid(b, 1, 0xDD);
  b.push_back(0);
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->recipients.size() == 1u);
  BOOST_TEST_REQUIRE(m->excluded.size() == 2u);
  BOOST_TEST(m->excluded[0].to_string() == "cccccccc-cccc-cccc-cccc-cccccccccccc");
  BOOST_TEST(m->excluded[1].to_string() == "PNI:dddddddd-dddd-dddd-dddd-dddddddddddd");
}

BOOST_AUTO_TEST_CASE(aci_and_pni_with_same_uuid_are_distinct) {
  Bytes b = {0x23, 0x02};
  sid(b, 0, 0xAA);
  device(b, 1, 1, false);
  key_material(b, 0x11);
  sid(b, 1, 0xAA);
  device(b, 1, 1, false);
  key_material(b, 0x22);
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->recipients.size() == 2u);
}

BOOST_AUTO_TEST_CASE(repeated_recipient_merges_and_keeps_first_key_material) {
  Bytes b = {0x23, 0x03};
  sid(b, 0, 0xAA);
  device(b, 1, 10, false);
  key_material(b, 0x11);
  sid(b, 0, 0xBB);
  device(b, 4, 40, false);
  key_material(b, 0x33);
  sid(b, 0, 0xAA);
  device(b, 2, 20, true);
  device(b, 3, 30, false);
  key_material(b, 0x22);
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == 2u);
  BOOST_TEST(m->recipients[0].service_id.to_string() == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
  BOOST_TEST((devices_of(m->recipients[0]) == std::vector<Device>{{1, 10}, {2, 20}, {3, 30}}));
  BOOST_TEST(hexs(m->recipients[0].key_material) == std::string(96, '1'));
  BOOST_TEST(hexs(m->recipients[1].key_material) == std::string(96, '3'));
}

BOOST_AUTO_TEST_CASE(interleaved_repeats_merge_in_first_seen_order) {
  // A(1) B(1) A(2) C excluded B(2) A(3): A gets 1,2,3 and B gets 1,2, each with its first C/AT.
  Bytes b = {0x23, 0x06};
  auto included = [&](uint8_t who, uint8_t dev, uint8_t km) {
    sid(b, 0, who);
    device(b, dev, static_cast<uint16_t>(who + dev), false);
    key_material(b, km);
  };
  included(0xAA, 1, 0x11);
  included(0xBB, 1, 0x22);
  included(0xAA, 2, 0x33);
  sid(b, 1, 0xCC);
  b.push_back(0);
  included(0xBB, 2, 0x44);
  included(0xAA, 3, 0x55);
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST_REQUIRE(m->recipients.size() == 2u);
  BOOST_TEST((devices_of(m->recipients[0]) ==
              std::vector<Device>{{1, 0xAB}, {2, 0xAC}, {3, 0xAD}}));
  BOOST_TEST((devices_of(m->recipients[1]) == std::vector<Device>{{1, 0xBC}, {2, 0xBD}}));
  BOOST_TEST(hexs(m->recipients[0].key_material) == std::string(96, '1'));
  BOOST_TEST(hexs(m->recipients[1].key_material) == std::string(96, '2'));
  BOOST_TEST_REQUIRE(m->excluded.size() == 1u);
  // The parsed message stays valid after a move (device lists live inside it).
  SentMessage moved = std::move(*m);
  BOOST_TEST((devices_of(moved.recipients[1]) == std::vector<Device>{{1, 0xBC}, {2, 0xBD}}));
  BOOST_TEST(moved.received_message(1)[1] == 0x22);
}

BOOST_AUTO_TEST_CASE(legacy_0x22_uses_16_byte_uuids_as_acis) {
  Bytes b = {0x22, 0x02};
  b.insert(b.end(), 16, 0x01);  // a leading 0x01 would mean PNI in the 0x23 form
  device(b, 5, 42, false);
  key_material(b, 0x11);
  b.insert(b.end(), 16, 0xAB);
  b.push_back(0);
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->version == 0x22);
  BOOST_TEST_REQUIRE(m->recipients.size() == 1u);
  BOOST_TEST(m->recipients[0].service_id.to_string() == "01010101-0101-0101-0101-010101010101");
  BOOST_TEST_REQUIRE(m->excluded.size() == 1u);
  BOOST_TEST((m->excluded[0].kind == ServiceId::Kind::aci));
  BOOST_TEST(m->received_message(0)[0] == 0x22);
}

BOOST_AUTO_TEST_CASE(multi_byte_count_varint) {
  Bytes b = {0x23, 0x80, 0x01};  // 128 entries
  for (int i = 0; i < 128; ++i) {
    sid(b, 0, static_cast<uint8_t>(i));
    device(b, 1, static_cast<uint16_t>(i), false);
    key_material(b, static_cast<uint8_t>(i));
  }
  shared(b);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->recipients.size() == 128u);
  BOOST_TEST(m->recipients[127].devices[0].registration_id == 127u);
}

BOOST_AUTO_TEST_CASE(zero_entries_parse) {
  Bytes b = {0x23, 0x00};
  shared(b, 32);
  auto m = SentMessage::parse(b);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->recipients.empty());
  BOOST_TEST(m->shared.size() == 32u);
}

BOOST_AUTO_TEST_CASE(empty_input_is_truncated) { BOOST_TEST(parse_error({}) == Error::truncated); }

BOOST_AUTO_TEST_CASE(other_versions_are_unknown) {
  for (uint8_t v : {uint8_t{0x00}, uint8_t{0x11}, uint8_t{0x21}, uint8_t{0x24}, uint8_t{0x2f},
                    uint8_t{0x33}}) {
    Bytes b = single();
    b[0] = v;
    BOOST_TEST(parse_error(b) == Error::unknown_version, int{v});
  }
}

BOOST_AUTO_TEST_CASE(count_larger_than_data_is_truncated) {
  Bytes b = {0x23, 0x02};
  sid(b, 0, 0xAA);
  device(b, 1, 1, false);
  key_material(b, 0x11);
  b.insert(b.end(), 16, 0x00);  // one byte short of the second entry's service id
  BOOST_TEST(parse_error(b) == Error::truncated);
  b = single();
  b[1] = 0x7F;
  BOOST_TEST(parse_error(b) == Error::truncated);
  Bytes huge = {0x23, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  shared(huge, 100);
  BOOST_TEST(parse_error(huge) == Error::truncated);
  BOOST_TEST(parse_error(Bytes{0x23, 0x80}) == Error::truncated);  // unterminated varint
}

BOOST_AUTO_TEST_CASE(kind_byte_2_is_invalid_service_id) {
  Bytes b = single();
  b[2] = 2;
  BOOST_TEST(parse_error(b) == Error::invalid_service_id);
  b[2] = 0xFF;
  BOOST_TEST(parse_error(b) == Error::invalid_service_id);
}

BOOST_AUTO_TEST_CASE(device_over_127_is_invalid) {
  for (uint8_t id : {uint8_t{128}, uint8_t{255}}) {
    Bytes b = single();
    b[19] = id;
    BOOST_TEST(parse_error(b) == Error::invalid_device_id, int{id});
  }
}

BOOST_AUTO_TEST_CASE(zero_device_after_a_device_is_malformed) {
  Bytes b = {0x23, 0x01};
  sid(b, 0, 0xAA);
  device(b, 1, 1, true);
  b.push_back(0);
  key_material(b, 0x11);
  shared(b);
  BOOST_TEST(parse_error(b) == Error::malformed);
}

BOOST_AUTO_TEST_CASE(truncated_entries_are_truncated) {
  Bytes b = {0x23, 0x01};
  sid(b, 0, 0xAA);
  device(b, 1, 1, false);
  b.insert(b.end(), 47, 0x11);  // one byte short of C || AT, nothing after
  BOOST_TEST(parse_error(b) == Error::truncated);
  Bytes no_reg = {0x23, 0x01};
  sid(no_reg, 0, 0xAA);
  no_reg.insert(no_reg.end(), {0x01, 0x00});
  BOOST_TEST(parse_error(no_reg) == Error::truncated);
}

BOOST_AUTO_TEST_CASE(fewer_than_32_bytes_after_entries_is_truncated) {
  Bytes b = {0x23, 0x01};
  sid(b, 0, 0xAA);
  device(b, 1, 1, false);
  key_material(b, 0x11);
  shared(b, 31);
  BOOST_TEST(parse_error(b) == Error::truncated);
  b.push_back(0);
  BOOST_TEST(SentMessage::parse(b).ok());
}

BOOST_AUTO_TEST_CASE(duplicate_device_in_one_entry_is_duplicate_recipient) {
  Bytes b = {0x23, 0x01};
  sid(b, 0, 0xAA);
  device(b, 4, 1, true);
  device(b, 4, 2, false);
  key_material(b, 0x11);
  shared(b);
  BOOST_TEST(parse_error(b) == Error::duplicate_recipient);
}

BOOST_AUTO_TEST_CASE(duplicate_device_across_merged_entries_is_duplicate_recipient) {
  Bytes b = {0x23, 0x02};
  sid(b, 0, 0xAA);
  device(b, 4, 1, false);
  key_material(b, 0x11);
  sid(b, 0, 0xAA);
  device(b, 4, 1, false);
  key_material(b, 0x11);
  shared(b);
  BOOST_TEST(parse_error(b) == Error::duplicate_recipient);
}

BOOST_AUTO_TEST_CASE(excluded_and_included_same_id_is_malformed) {
  for (bool excluded_first : {true, false}) {
    Bytes b = {0x23, 0x02};
    auto included = [&] {
      sid(b, 0, 0xAA);
      device(b, 1, 1, false);
      key_material(b, 0x11);
    };
    auto excluded = [&] {
      sid(b, 0, 0xAA);
      b.push_back(0);
    };
    if (excluded_first) {
      excluded();
      included();
    } else {
      included();
      excluded();
    }
    shared(b);
    BOOST_TEST(parse_error(b) == Error::malformed, excluded_first);
  }
}

BOOST_AUTO_TEST_CASE(excluded_twice_is_malformed) {
  Bytes b = {0x23, 0x02};
  sid(b, 1, 0xAA);
  b.push_back(0);
  sid(b, 1, 0xAA);
  b.push_back(0);
  shared(b);
  BOOST_TEST(parse_error(b) == Error::malformed);
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_sealed_message) {
  World w;
  const SealRecipient rs[] = {
      {test::service_id("11111111-2222-4333-8444-555555555555"), {{1, 1}, {2, 2}}, w.recipient.pub},
      {test::service_id("PNI:22222222-2222-4333-8444-555555555555"), {{3, 3}}, w.sender.pub}};
  const ServiceId ex[] = {test::service_id("33333333-2222-4333-8444-555555555555")};
  auto sent = seal_v2(w.usmc(), w.sender, rs, ex, w.rng);
  BOOST_TEST_REQUIRE(sent.ok());
  const std::size_t entries_end = 2 + (17 + 6 + 48) + (17 + 3 + 48) + 18;
  const std::size_t tail = sent->size() - entries_end;
  BOOST_TEST_REQUIRE(tail == 32 + w.usmc().size() + 16);
  for (std::size_t n = 0; n < sent->size(); ++n) {
    auto m = SentMessage::parse(ByteView(*sent).first(n));
    if (n < entries_end + 32) {
      BOOST_TEST(!m.ok(), n);
    } else {
      BOOST_TEST_REQUIRE(m.ok(), n);
      BOOST_TEST(m->shared.size() == n - entries_end);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// Complexity guard: one repeated recipient once made the merge pass O(recipients x entries).
// Relative timing (the same parse with and without the repeat), so machine speed cancels out.
BOOST_AUTO_TEST_SUITE(sent_message)

BOOST_AUTO_TEST_CASE(one_repeat_does_not_make_parsing_quadratic) {
  constexpr uint32_t n = 20000;
  auto build = [&](bool repeat_first) {
    Bytes b = {0x23};
    for (uint32_t v = n + (repeat_first ? 1 : 0); ; v >>= 7) {  // varint count
      b.push_back(static_cast<uint8_t>(v < 0x80 ? v : (v & 0x7F) | 0x80));
      if (v < 0x80) break;
    }
    auto entry = [&](uint32_t i, uint8_t device_id) {
      sid(b, 0, 0);
      for (int k = 0; k < 4; ++k) b[b.size() - 4 + k] = static_cast<uint8_t>(i >> (24 - 8 * k));
      device(b, device_id, 1, false);
      key_material(b, 7);
    };
    for (uint32_t i = 0; i < n; ++i) entry(i, 1);
    if (repeat_first) entry(0, 2);
    shared(b);
    return b;
  };
  auto best_ms = [](const Bytes& b) {
    double best = 1e9;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto m = SentMessage::parse(b);
      const auto t1 = std::chrono::steady_clock::now();
      BOOST_TEST_REQUIRE(m.ok());
      best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return best;
  };
  const double plain = best_ms(build(false));
  const double repeated = best_ms(build(true));
  BOOST_TEST_MESSAGE(n << " recipients: " << plain << " ms; with one repeat: " << repeated << " ms");
  BOOST_TEST(repeated < 10 * plain + 5);
}

BOOST_AUTO_TEST_SUITE_END()

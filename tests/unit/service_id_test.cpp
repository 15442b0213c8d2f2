// UUID and service id text/binary forms: formatting, parsing, and rejection of near misses.
#include <boost/test/unit_test.hpp>

#include "crypto/service_id.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;

namespace {
constexpr std::string_view kUuid = "0123abcd-4567-89ef-0a1b-2c3d4e5f6789";
}

BOOST_AUTO_TEST_SUITE(service_id)

BOOST_AUTO_TEST_CASE(uuid_formats_lower_case_hyphenated) {
  auto u = parse_uuid("0123ABCD-4567-89EF-0A1B-2C3D4E5F6789");
  BOOST_TEST_REQUIRE(u.ok());
  BOOST_TEST(hexs(*u) == "0123abcd456789ef0a1b2c3d4e5f6789");
  BOOST_TEST(format_uuid(*u) == kUuid);
}

BOOST_AUTO_TEST_CASE(uuid_rejects_near_misses) {
  for (std::string_view bad : {
           "", "0123abcd4567-89ef-0a1b-2c3d4e5f6789", "0123abcd-4567-89ef-0a1b-2c3d4e5f678",
           "0123abcd-4567-89ef-0a1b-2c3d4e5f67890", "0123abcd_4567-89ef-0a1b-2c3d4e5f6789",
           "0123abcd-4567-89ef-0a1b-2c3d4e5f678g", "0123abcd-4567-89ef-0a1b2-c3d4e5f6789",
           "{123abcd-4567-89ef-0a1b-2c3d4e5f6789", "0123abcd-4567-89ef-0a1b-2c3d4e5f67 9",
           "0123abcd-4567-89ef-0a1b-2c3d4e5f6789\n"}) {
    BOOST_TEST(parse_uuid(bad).error() == Error::invalid_service_id, bad);
  }
}

BOOST_AUTO_TEST_CASE(aci_and_pni_text_forms) {
  auto aci = ServiceId::parse(kUuid);
  BOOST_TEST_REQUIRE(aci.ok());
  BOOST_TEST((aci->kind == ServiceId::Kind::aci));
  BOOST_TEST(aci->to_string() == kUuid);
  auto pni = ServiceId::parse("PNI:0123ABCD-4567-89EF-0A1B-2C3D4E5F6789");
  BOOST_TEST_REQUIRE(pni.ok());
  BOOST_TEST((pni->kind == ServiceId::Kind::pni));
  BOOST_TEST(pni->to_string() == "PNI:" + std::string(kUuid));
  BOOST_TEST(pni->uuid == aci->uuid);
  BOOST_TEST(*pni != *aci);
}

BOOST_AUTO_TEST_CASE(service_id_rejects_other_prefixes) {
  const std::string u(kUuid);
  for (const std::string& bad : {"pni:" + u, "ACI:" + u, "PNI" + u, "PNI:" + u + " ", " " + u,
                                 std::string("PNI:")}) {
    BOOST_TEST(ServiceId::parse(bad).error() == Error::invalid_service_id, bad);
  }
}

BOOST_AUTO_TEST_CASE(fixed_width_is_kind_then_uuid) {
  const ServiceId pni = test::service_id("PNI:" + std::string(kUuid));
  BOOST_TEST(hexs(pni.fixed_width()) == "010123abcd456789ef0a1b2c3d4e5f6789");
  BOOST_TEST(hexs(test::service_id(kUuid).fixed_width()) == "000123abcd456789ef0a1b2c3d4e5f6789");
  auto back = ServiceId::from_fixed_width(pni.fixed_width());
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(*back == pni);
}

BOOST_AUTO_TEST_CASE(fixed_width_rejects_bad_kind_and_length) {
  auto fixed = test::service_id(kUuid).fixed_width();
  fixed[0] = 2;
  BOOST_TEST(ServiceId::from_fixed_width(fixed).error() == Error::invalid_service_id);
  fixed[0] = 0xFF;
  BOOST_TEST(ServiceId::from_fixed_width(fixed).error() == Error::invalid_service_id);
  fixed[0] = 0;
  BOOST_TEST(ServiceId::from_fixed_width(ByteView(fixed).first(16)).error() ==
             Error::invalid_service_id);
  Bytes longer(fixed.begin(), fixed.end());
  longer.push_back(0);
  BOOST_TEST(ServiceId::from_fixed_width(longer).error() == Error::invalid_service_id);
}

BOOST_AUTO_TEST_SUITE_END()

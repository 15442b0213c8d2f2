// Random generators: SeededRng is a reproducible stream; FastRng and SystemRng give fresh, unbiased bytes.
#include <boost/test/unit_test.hpp>

#include <array>
#include <set>

#include "base/rng.h"
#include "test_support.h"

using namespace veil;

namespace {

Bytes draw(Rng& rng, std::size_t n) {
  Bytes b(n);
  rng.fill(b);
  return b;
}

// Loose byte-frequency check: a chi-square statistic far above 255 degrees of freedom means bias.
double chi_square(const Bytes& b) {
  std::array<double, 256> count{};
  for (uint8_t x : b) count[x] += 1;
  const double expected = static_cast<double>(b.size()) / 256.0;
  double chi = 0;
  for (double c : count) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rng)

BOOST_AUTO_TEST_CASE(seeded_rng_is_reproducible_and_seed_dependent) {
  SeededRng a(42), b(42), c(43);
  const Bytes first = draw(a, 100);
  BOOST_TEST(first == draw(b, 100));
  BOOST_TEST(first != draw(c, 100));
  BOOST_TEST(draw(a, 100) != first);  // the next call continues the stream
  std::array<uint8_t, 32> seed{};
  seed[0] = 1;
  SeededRng d(seed), e(seed);
  BOOST_TEST(draw(d, 64) == draw(e, 64));
}

BOOST_AUTO_TEST_CASE(uniform_and_unit_stay_in_range) {
  SeededRng r(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t x = r.uniform(10);
    BOOST_TEST_REQUIRE(x < 10u);
    seen.insert(x);
    const double u = r.unit();
    BOOST_TEST_REQUIRE((u >= 0.0 && u < 1.0));
  }
  BOOST_TEST(seen.size() == 10u);
  BOOST_TEST(r.uniform(1) == 0u);
}

BOOST_AUTO_TEST_CASE(fast_rng_fills_any_length_with_fresh_bytes) {
  FastRng r;
  for (std::size_t n : {0, 1, 31, 32, 33, 8159, 8192, 20000}) {
    const Bytes x = draw(r, n), y = draw(r, n);
    if (n >= 16) {
      BOOST_TEST(x != y, n);
      BOOST_TEST(x != Bytes(n, 0), n);
    }
  }
  FastRng other;
  BOOST_TEST(draw(r, 64) != draw(other, 64));
}

BOOST_AUTO_TEST_CASE(fast_rng_keeps_working_across_reseeds) {
  FastRng r(1);  // reseed on every refill
  std::set<Bytes> blocks;
  for (int i = 0; i < 50; ++i) blocks.insert(draw(r, 9000));
  BOOST_TEST(blocks.size() == 50u);
}

BOOST_AUTO_TEST_CASE(byte_frequencies_look_uniform) {
  FastRng fast;
  SeededRng seeded(3);
  SystemRng system;
  // 1 MiB per generator; chi-square with 255 d.o.f. has mean 255 and sd ~22.6.
  BOOST_TEST(chi_square(draw(fast, 1 << 20)) < 400.0);
  BOOST_TEST(chi_square(draw(seeded, 1 << 20)) < 400.0);
  BOOST_TEST(chi_square(draw(system, 1 << 20)) < 400.0);
}

BOOST_AUTO_TEST_SUITE_END()

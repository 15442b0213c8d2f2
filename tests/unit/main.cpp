// Entry point of veil_unit_tests: Boost.Test's generated main; the suites live in *_test.cpp.
#define BOOST_TEST_MODULE veil_unit_tests
#include <boost/test/unit_test.hpp>

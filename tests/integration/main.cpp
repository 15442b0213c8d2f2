// Entry point of veil_integration_tests: Boost.Test's generated main; the suites live in *_test.cpp.
#define BOOST_TEST_MODULE veil_integration_tests
#include <boost/test/unit_test.hpp>

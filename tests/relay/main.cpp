// The in-process relay suite's test runner (Boost.Test main).
#define BOOST_TEST_MODULE veil_relay_tests
#include <boost/test/unit_test.hpp>

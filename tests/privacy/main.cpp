// Boost.Test entry point of the privacy suite (veil_privacy_tests).
#define BOOST_TEST_MODULE veil_privacy_tests
#include <boost/test/unit_test.hpp>

// The TLS link-security suite's test runner (Boost.Test main).
#define BOOST_TEST_MODULE veil_tls_tests
#include <boost/test/unit_test.hpp>

// The store suite's test runner (Boost.Test main).
#define BOOST_TEST_MODULE veil_store_tests
#include <boost/test/unit_test.hpp>

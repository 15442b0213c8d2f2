// Boost.Test entry point of the CLI suites.
#define BOOST_TEST_MODULE veil_cli_tests
#include <boost/test/unit_test.hpp>

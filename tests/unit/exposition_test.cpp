// The Prometheus text exposition: label escaping, seconds histograms from µs observations with
// cumulative buckets, HELP and TYPE once per family, process metrics only when read.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include "proxy/relay/core/exposition.h"

namespace veil::relay {
namespace {

// The line that starts with `prefix` + " ", without the prefix; "" if none.
std::string line_of(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix + " ", 0) == 0) return line.substr(prefix.size() + 1);
  }
  return "";
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exposition)

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  BOOST_TEST(escape_label_value("mix-1") == "mix-1");
  BOOST_TEST(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

BOOST_AUTO_TEST_CASE(histograms_are_cumulative_in_seconds) {
  Metrics m;
  m.mix_delay_us.observe(100);        // bucket 7: under 128 µs
  m.mix_delay_us.observe(1'500'000);  // bucket 21: under 2.097152 s
  m.mix_delay_us.observe(10);         // below the first bucket shown (64 µs): counted there
  ExpositionInput in;
  in.metrics = &m;
  in.peers.push_back(PeerLinkStatus{"mix-\"1\"", true, 2, 3, 4, 1});
  const std::string t = render_exposition(in);
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_bucket{le=\"6.4e-05\"}") == "1");
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_bucket{le=\"0.000128\"}") == "2");
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_bucket{le=\"1.048576\"}") == "2");
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_bucket{le=\"2.097152\"}") == "3");
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_bucket{le=\"+Inf\"}") == "3");
  BOOST_TEST(line_of(t, "veil_mix_delay_seconds_count") == "3");
  BOOST_TEST(std::stod(line_of(t, "veil_mix_delay_seconds_sum")) == 1.50011, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(count_of(t, "# TYPE veil_mix_delay_seconds histogram\n") == 1u);
  BOOST_TEST(line_of(t, "veil_peer_link_queued_packets{peer=\"mix-\\\"1\\\"\"}") == "2");
  BOOST_TEST(line_of(t, "veil_peer_link_unacknowledged_packets{peer=\"mix-\\\"1\\\"\"}") == "3");
  BOOST_TEST(t.find("process_") == std::string::npos);
  BOOST_TEST(t.back() == '\n');
}

BOOST_AUTO_TEST_CASE(every_family_has_help_and_type_once) {
  Metrics m;
  ExpositionInput in;
  in.metrics = &m;
  in.process = ProcessStats{1.5, 1000, 2000, 7, 1024, 1.7e9};
  in.deliver = DeliverLinkStatus{true, 0};
  const std::string t = render_exposition(in);
  BOOST_TEST(line_of(t, "process_cpu_seconds_total") == "1.5");
  BOOST_TEST(line_of(t, "process_open_fds") == "7");
  BOOST_TEST(line_of(t, "process_start_time_seconds") == "1700000000");
  std::istringstream lines(t);
  std::size_t help = 0;
  std::size_t type = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      ++help;
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      BOOST_TEST(count_of(t, "# HELP " + name + " ") == 1u, name);
      BOOST_TEST((name.rfind("veil_", 0) == 0u || name.rfind("process_", 0) == 0u), name);
    }
    if (line.rfind("# TYPE ", 0) == 0) ++type;
  }
  BOOST_TEST(help == type);
  BOOST_TEST(help > 40u);
}

BOOST_AUTO_TEST_CASE(docs_metrics_md_names_every_family) {
  Metrics m;
  ExpositionInput in;
  in.metrics = &m;
  in.process = ProcessStats{};
  in.deliver = DeliverLinkStatus{};
  in.peers.push_back(PeerLinkStatus{"mix-1", true, 0, 0, 1, 0});
  const std::string t = render_exposition(in);
  std::ifstream f(std::string(VEIL_SOURCE_DIR) + "/docs/metrics.md");
  const std::string docs((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  BOOST_TEST_REQUIRE(!docs.empty());
  std::istringstream lines(t);
  std::set<std::string> exported;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    exported.insert(name);
    if (name.rfind("process_", 0) == 0) continue;
    BOOST_TEST(docs.find("| `" + name + "` |") != std::string::npos, "docs/metrics.md lacks " << name);
  }
  // ... and names nothing the relay does not export.
  std::istringstream rows(docs);
  for (std::string row; std::getline(rows, row);) {
    if (row.rfind("| `veil_", 0) != 0) continue;
    const std::string name = row.substr(3, row.find('`', 3) - 3);
    BOOST_TEST(exported.count(name) == 1u, "docs/metrics.md names " << name << ", which is not exported");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay

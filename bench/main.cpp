// Entry point of veil-bench: `veil-bench crypto [--quick] [--content-bytes N] [--only OP_PREFIX]`.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/crypto_bench.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "crypto") != 0) {
    std::fprintf(stderr, "usage: veil-bench crypto [--quick] [--content-bytes N] [--only OP_PREFIX]\n");
    return 2;
  }
  veil::bench::CryptoBenchOptions o;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only" && i + 1 < argc) {
      o.only = argv[++i];
    } else if (a == "--content-bytes" && i + 1 < argc) {
      o.content_bytes = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "veil-bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  return veil::bench::run_crypto_bench(o);
}

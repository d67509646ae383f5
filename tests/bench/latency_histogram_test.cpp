#include "bench/latency_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

using chat_bench::latency_histogram;

namespace {

constexpr double ns_per_ms = 1e6;

// The sample of rank p * (n - 1), rounded, as the histogram defines it.
double exact_percentile_ms(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[rank]) / ns_per_ms;
}

} // namespace

TEST_CASE("an empty latency histogram reports zero") {
  latency_histogram h;
  CHECK(h.percentile_ms(0.5) == 0);
  CHECK(h.max_ms() == 0);
}

TEST_CASE("latencies below 256 ns are counted exactly") {
  latency_histogram h;
  for (int64_t ns = 1; ns <= 200; ++ns)
    h.record(ns);
  CHECK(h.percentile_ms(0.0) == 1 / ns_per_ms);
  CHECK(h.percentile_ms(0.5) == 101 / ns_per_ms); // rank round(99.5) = 100
  CHECK(h.percentile_ms(1.0) == 200 / ns_per_ms);
}

TEST_CASE("every percentile is within 0.4% of the exact sample") {
  // From 300 ns to ~30 s, spread over every power of two.
  std::vector<int64_t> samples;
  for (double ns = 300; ns < 3e10; ns *= 1.013)
    samples.push_back(static_cast<int64_t>(ns));
  latency_histogram h;
  for (auto ns : samples)
    h.record(ns);
  for (double p : {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    auto exact = exact_percentile_ms(samples, p);
    INFO("p = " << p << ", exact " << exact << " ms");
    CHECK(std::abs(h.percentile_ms(p) - exact) <= exact * 0.004);
  }
  CHECK(h.max_ms() == static_cast<double>(samples.back()) / ns_per_ms);
}

TEST_CASE("a broadcast that never finished counts as 1e9 ms, not a wrap") {
  latency_histogram h;
  h.record(5'000'000);
  h.record(1'000'000'000'000'000);
  CHECK(h.percentile_ms(1.0) == 1e9);
  CHECK(h.percentile_ms(0.0) == Approx(5).epsilon(0.004));
}

TEST_CASE("a cleared latency histogram starts over") {
  latency_histogram h;
  h.record(42'000'000);
  h.clear();
  h.record(7'000'000);
  CHECK(h.percentile_ms(0.5) == Approx(7).epsilon(0.004));
  CHECK(h.max_ms() == 7);
}

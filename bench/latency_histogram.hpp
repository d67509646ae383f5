#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace chat_bench {

// Latencies counted in buckets 1/128 of their power of two wide: any
// percentile within 0.4%, one increment per sample and 58 KiB however many
// samples (tens of millions a run; a vector of them cost the generator page
// faults and a sort).
class latency_histogram {
public:
  void record(int64_t ns) {
    auto v = static_cast<uint64_t>(std::max<int64_t>(ns, 0));
    ++counts_[index(v)];
    ++total_;
    max_ = std::max(max_, v);
  }

  void clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = max_ = 0;
  }

  /// The sample of rank p * (count - 1), rounded, in ms; 0 when empty.
  double percentile_ms(double p) const {
    if (total_ == 0)
      return 0;
    auto rank
      = static_cast<uint64_t>(p * static_cast<double>(total_ - 1) + 0.5);
    uint64_t seen = 0;
    size_t i = 0;
    while ((seen += counts_[i]) <= rank)
      ++i;
    return static_cast<double>(std::min(middle(i), max_)) / 1e6;
  }

  double max_ms() const {
    return static_cast<double>(max_) / 1e6;
  }

private:
  static constexpr int sub_bits = 7;
  static constexpr uint64_t exact = 2u << sub_bits; // below: one per ns

  static size_t index(uint64_t v) {
    if (v < exact)
      return v;
    int shift = 63 - __builtin_clzll(v) - sub_bits;
    return (static_cast<size_t>(shift) + 1) << sub_bits
           | ((v >> shift) & ((1u << sub_bits) - 1));
  }

  static uint64_t middle(size_t i) {
    if (i < exact)
      return i;
    auto shift = static_cast<int>(i >> sub_bits) - 1;
    auto low = ((uint64_t{1} << sub_bits) | (i & ((1u << sub_bits) - 1)))
               << shift;
    return low + (uint64_t{1} << shift) / 2;
  }

  std::vector<uint64_t> counts_
    = std::vector<uint64_t>(index(~uint64_t{0}) + 1);
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

} // namespace chat_bench

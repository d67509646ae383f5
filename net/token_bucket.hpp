#pragma once

#include <algorithm>
#include <chrono>

namespace net {

/// Admits events at a steady rate with room for a burst. A rate of 0 admits
/// everything. Pure: the caller passes the time, so tests need no clock.
class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket(double rate_per_second, double burst, clock::time_point now)
    : rate_(rate_per_second),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      refilled_(now) {
    // nop
  }

  /// Takes one token if there is one.
  bool try_take(clock::time_point now) {
    if (rate_ <= 0)
      return true;
    refill(now);
    if (tokens_ < 1)
      return false;
    tokens_ -= 1;
    return true;
  }

  /// How long until try_take can succeed.
  clock::duration wait_time(clock::time_point now) {
    if (rate_ <= 0)
      return clock::duration::zero();
    refill(now);
    if (tokens_ >= 1)
      return clock::duration::zero();
    auto seconds = std::chrono::duration<double>{(1 - tokens_) / rate_};
    return std::chrono::ceil<clock::duration>(seconds);
  }

private:
  void refill(clock::time_point now) {
    std::chrono::duration<double> elapsed = now - refilled_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    refilled_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point refilled_;
};

} // namespace net

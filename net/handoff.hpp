#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace net {

/// Hands items from any thread to one consumer thread in batches. Only the
/// push that finds the queue idle asks for a wake-up, so a broadcast to N
/// clients costs one wake-up of the consumer instead of N.
template <class T>
class handoff {
public:
  /// Queues `item`; returns true if the consumer must be woken to take it.
  bool push(T item) {
    std::lock_guard<std::mutex> guard{mtx_};
    items_.push_back(std::move(item));
    return !std::exchange(armed_, true);
  }

  /// Moves everything queued into `out` (which must be empty); the next push
  /// asks for a wake-up again. Swapping keeps both vectors' capacity.
  void take(std::vector<T>& out) {
    std::lock_guard<std::mutex> guard{mtx_};
    out.swap(items_);
    armed_ = false;
  }

private:
  std::mutex mtx_;
  std::vector<T> items_;
  bool armed_ = false;
};

} // namespace net

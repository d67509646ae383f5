#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace chat {

/// Chat-level figures for /metrics. The lobby and the private pairs write
/// them; the HTTP handler reads them on another thread. Plain relaxed
/// atomics: no actor ever waits on them, and no reader needs two figures to
/// agree with each other.
struct chat_stats {
  using counter = std::atomic<uint64_t>;

  /// Chat lines handed to a recipient: one per other member of the main room
  /// for a room line, one per private line that reached the partner.
  counter deliveries{0};
  /// Clients paging right now (a gauge).
  counter active_pages{0};
  /// Private chats running right now (a gauge).
  counter private_chats{0};
};

using chat_stats_ptr = std::shared_ptr<chat_stats>;

} // namespace chat

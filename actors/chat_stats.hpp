#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat {

/// Chat-level figures for /metrics and /healthz. The lobby and the private
/// pairs write them; the HTTP handler reads them on another thread. Plain
/// relaxed atomics: no actor ever waits on them, and no reader needs two
/// figures to agree with each other.
struct chat_stats {
  using counter = std::atomic<uint64_t>;

  /// `slots`: the cluster's slot count, one backlog gauge per node.
  explicit chat_stats(size_t slots = 1) : peer_backlog_bytes(slots) {
  }

  /// Chat lines handed to a recipient: one per other member of the main room
  /// for a room line, one per private line that reached the partner.
  counter deliveries{0};
  /// Clients paging right now (a gauge).
  counter active_pages{0};
  /// Private chats running right now (a gauge).
  counter private_chats{0};

  // The cluster, as the lobby sees it.

  /// Other nodes linked now (a gauge).
  counter peers{0};
  /// Links to other nodes lost: reset, silent, or dropped for falling
  /// behind.
  counter peer_losses{0};
  /// Of those, links dropped because their backlog passed the cap.
  counter peer_backlog_drops{0};
  /// Messages and their payload bytes sent to and received from other
  /// nodes' lobbies (main-room lines, membership, private lines).
  counter peer_messages_sent{0};
  counter peer_messages_received{0};
  counter peer_bytes_sent{0};
  counter peer_bytes_received{0};
  /// Per node (entry K-1 for node K): bytes sent to it that it has not yet
  /// acknowledged (a gauge; 0 for nodes not linked).
  std::vector<counter> peer_backlog_bytes;
};

using chat_stats_ptr = std::shared_ptr<chat_stats>;

} // namespace chat

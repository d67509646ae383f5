#pragma once

#include <atomic>
#include <cstdint>

namespace net {

/// What the bridge counts about its connections, for /healthz and /metrics.
/// Owned by main(); the bridge writes from the Asio thread, anyone may read.
/// Relaxed atomics: each figure is exact on its own, and no reader needs two
/// of them to agree with each other.
struct bridge_stats {
  using counter = std::atomic<uint64_t>;

  /// WebSocket sessions open right now (a gauge).
  counter sessions_connected{0};
  /// WebSocket handshakes completed.
  counter connections_accepted{0};
  /// WebSocket upgrade requests refused: an Origin not allowed, or a
  /// handshake that failed.
  counter connections_refused{0};
  /// Frames received from clients, text and binary.
  counter frames_in{0};
  /// Frames handed to websocketpp for a client.
  counter frames_out{0};
  /// Plain HTTP requests answered (the page, /healthz, /metrics, 404s).
  counter http_requests{0};
  /// Clients disconnected because their unsent backlog passed the cap.
  counter slow_consumer_drops{0};
  /// Clients that were slowed down, at least once, for sending faster than
  /// the configured rate.
  counter rate_limited_clients{0};
  /// Clients dropped as gone: no answer to a ping and none from their host's
  /// TCP, or reset by the kernel's TCP_USER_TIMEOUT.
  counter ping_timeouts{0};
  /// Upgrade requests refused (429) because their address already had
  /// --max-clients-per-address clients; also in connections_refused.
  counter address_limit_refusals{0};
  /// Pings left unanswered by a client whose host's TCP still answers (a
  /// busy program): the client stayed.
  counter busy_clients_kept{0};
};

/// Adds one to a counter.
inline void bump(bridge_stats::counter& x) {
  x.fetch_add(1, std::memory_order_relaxed);
}

} // namespace net

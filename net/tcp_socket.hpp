#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

#include <asio/ip/tcp.hpp>

#include "net/peer_liveness.hpp"

namespace net {

/// The kernel's side of a client's TCP connection, set on the accepted
/// socket.
struct tcp_options {
  /// SO_SNDBUF, which Linux doubles for its bookkeeping and then holds
  /// fixed (no autotuning): what the kernel may queue for the client on top
  /// of the bridge's own backlog. 0 leaves the kernel's autotuning (up to
  /// net.ipv4.tcp_wmem's maximum, 4 MiB by default).
  size_t send_buffer_bytes = 64 * 1024;
  /// A peer whose kernel stays silent this long is dropped by the kernel
  /// itself: keepalive probes once the connection was idle for `idle`, and
  /// TCP_USER_TIMEOUT (sent data unacknowledged, or probes unanswered, for
  /// `idle` + `grace`).
  std::chrono::milliseconds idle{30'000};
  std::chrono::milliseconds grace{10'000};
};

/// Sets TCP_NODELAY, SO_SNDBUF, keepalive and TCP_USER_TIMEOUT on
/// `socket`. Returns the first option that failed and why, or nothing.
std::optional<std::string> set_client_options(asio::ip::tcp::socket& socket,
                                              const tcp_options& options);

/// Ends the connection for real: a reset (SO_LINGER 0, then close), so the
/// kernel drops what it still queues for the peer instead of trying to
/// deliver it, with a FIN behind it, for as long as the peer acknowledges a
/// tiny window. Returns what failed, if anything.
std::error_code abort_connection(asio::ip::tcp::socket& socket);

/// The kernel's facts about the peer (TCP_INFO), or nothing with `ec` set.
std::optional<tcp_facts> read_tcp_facts(asio::ip::tcp::socket& socket,
                                        std::error_code& ec);

} // namespace net

#pragma once

#include <chrono>
#include <optional>
#include <type_traits>

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "actors/interfaces.hpp"
#include "net/address_counts.hpp"
#include "net/either_socket.hpp"
#include "net/outbox_transport.hpp"
#include "net/read_pacer.hpp"
#include "net/ws_sink.hpp"
#include "net/ws_types.hpp"

namespace net {

/// websocketpp's Asio configuration, with quiet logs, an outbox on every
/// connection and a slot for the bridge's per-connection state. One thread
/// runs Asio and is the only one to touch websocketpp, so it needs no
/// strands and no locks.
struct ws_config : websocketpp::config::asio {
  using type = ws_config;
  using concurrency_type = websocketpp::concurrency::none;
  using alog_type
    = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using elog_type
    = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;

  struct transport_config : websocketpp::config::asio::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    static const bool enable_multithreading = false;
    /// TLS or plain TCP, as the endpoint is told at start.
    using socket_type = either_socket::endpoint;
  };
  using transport_type = outbox_endpoint<transport_config>;

  static const websocketpp::log::level elog_level
    = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level
    = websocketpp::log::alevel::none;

  /// Every connection carries its read buffer, idle or not: sized for chat
  /// lines (a longer frame takes several reads), not the 16 KiB default.
  static const size_t connection_read_buffer_size = 256;

  /// What the bridge keeps for each connection.
  struct connection_base {
    /// Speaks for this connection; invalid until the handshake completed.
    chat::session_actor session;
    /// Where the fan-out puts this client's frames.
    ws_sink sink;
    /// Read pacing's state.
    paced_reads reads;
    /// When the client last sent a frame, or was last there for a ping
    /// (it answered, or its kernel acknowledged).
    std::chrono::steady_clock::time_point last_heard;
    /// The address this client is counted under, once admitted while
    /// --max-clients-per-address is on.
    std::optional<address_counts::key> counted_address;
    /// When we last pinged it.
    std::chrono::steady_clock::time_point pinged_at;
  };
};

using ws_endpoint = websocketpp::server<ws_config>;

// net/ws_types.hpp names the message type before ws_config exists.
static_assert(std::is_same_v<ws_message_ptr, ws_config::message_type::ptr>);

} // namespace net

#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "actors/interfaces.hpp"
#include "net/bridge_stats.hpp"
#include "net/http_service.hpp"
#include "net/origins.hpp"

namespace net {

/// websocketpp's Asio configuration, with quiet logs and a slot on every
/// connection for the session actor that speaks for it.
struct ws_config : websocketpp::config::asio {
  static const websocketpp::log::level elog_level
    = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level
    = websocketpp::log::alevel::none;

  struct connection_base {
    chat::session_actor session;
  };
};

using ws_endpoint = websocketpp::server<ws_config>;
using ws_connection_ptr = ws_endpoint::connection_ptr;

/// Where and how the server listens.
struct ws_server_config {
  std::string host = "localhost";
  uint16_t port = 8765;
  /// Larger frames are refused with close code 1009.
  size_t max_message_bytes = 16 * 1024;
  /// Comma-separated Origins (`https://chat.example.com`) that may open a
  /// WebSocket; empty accepts any. A request without an Origin header does
  /// not come from a browser page and is accepted either way.
  std::string allowed_origins;
};

/// The bridge: accepts WebSocket connections, spawns a session actor for
/// each and turns frames into messages to it; answers plain HTTP requests
/// on the same port through `http`. Knows no chat rule. Counts into
/// `stats`. Every member function runs on the Asio thread, except where
/// noted.
class ws_server {
public:
  /// Makes the session actor for a new connection.
  using session_factory
    = std::function<chat::session_actor(chat::client_link_ptr)>;

  /// `stats` and `http` must outlive the server.
  ws_server(ws_server_config config, session_factory make_session,
            bridge_stats& stats, const http_service& http);

  /// Binds and starts accepting. Port 0 picks a free port.
  std::error_code listen();

  /// The address actually bound, after listen().
  asio::ip::tcp::endpoint local_endpoint();

  /// The io_context everything runs on, e.g. to wait for signals.
  asio::io_context& io() {
    return io_;
  }

  /// Runs the Asio loop until shutdown() has closed every connection.
  void run();

  /// Stops accepting, sends `goodbye` to every client and closes each with
  /// 1001 (going away).
  void shutdown(const std::string& goodbye);

private:
  void on_open(websocketpp::connection_hdl hdl);
  void on_close(websocketpp::connection_hdl hdl);
  void on_message(websocketpp::connection_hdl hdl, ws_endpoint::message_ptr);
  void on_http(websocketpp::connection_hdl hdl);
  bool on_validate(websocketpp::connection_hdl hdl);
  void on_fail(websocketpp::connection_hdl hdl);
  void say_goodbye(const ws_connection_ptr& con);

  ws_server_config config_;
  std::vector<std::string> allowed_origins_;
  session_factory make_session_;
  bridge_stats& stats_;
  const http_service& http_;
  asio::io_context io_;
  ws_endpoint endpoint_;
  std::set<websocketpp::connection_hdl, std::owner_less<>> open_;
  std::string goodbye_;
  bool stopping_ = false;
};

} // namespace net

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include "net/either_socket.hpp"

namespace client {

/// websocketpp's Asio client configuration, with its logs compiled out;
/// ws:// or wss://, per URL.
struct ws_config : websocketpp::config::asio_client {
  using type = ws_config;
  struct transport_config : websocketpp::config::asio_client::transport_config {
    using socket_type = net::either_socket::endpoint;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  static const websocketpp::log::level elog_level
    = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level
    = websocketpp::log::alevel::none;
};

using ws_client = websocketpp::client<ws_config>;

/// How a connection ended.
struct ending {
  enum kind {
    /// No TCP connection: refused, no such host, no answer.
    unreachable,
    /// TCP connected, but no WebSocket session: an HTTP error, a server
    /// that does not speak WebSocket, a handshake timeout.
    refused,
    /// The connection dropped without a close frame from the server.
    lost,
    /// The server sent a close frame: `close_code` and `detail` (reason).
    server_closed,
    /// We closed it, and the server answered or timed out.
    we_closed,
  };

  kind what;
  /// Why, in words: an error message, an HTTP status, a close reason.
  std::string detail;
  uint16_t close_code = 0;
};

/// One WebSocket session with the chat server, on websocketpp's client over
/// the caller's io_context. Every member function runs on its thread.
class connection {
public:
  struct handlers {
    std::function<void()> on_open;
    std::function<void(const std::string&)> on_text;
    std::function<void(size_t bytes)> on_binary;
    /// Called once, at the end, whatever ends it.
    std::function<void(const ending&)> on_end;
  };

  connection(asio::io_context& io, handlers hs);

  /// Starts connecting to a ws:// or wss:// URL; errors in the URL (or in
  /// `ca_file`) come back here, everything later through the handlers. A
  /// wss:// server's certificate must be valid for the URL's host and
  /// signed by a CA in `ca_file` (PEM), or by one the system trusts if
  /// empty.
  std::error_code connect(const std::string& url,
                          const std::string& ca_file = {});

  /// True between on_open and the start of closing.
  bool is_open() const {
    return open_;
  }

  /// Sends one text frame.
  void send(const std::string& text);

  /// Starts the closing handshake; false if the session is not open.
  bool close(uint16_t code, const std::string& reason);

private:
  void no_delay(websocketpp::connection_hdl hdl);
  void on_fail(websocketpp::connection_hdl hdl);
  void on_close(websocketpp::connection_hdl hdl);

  handlers handlers_;
  std::shared_ptr<asio::ssl::context> tls_;
  ws_client client_;
  websocketpp::connection_hdl hdl_;
  bool tcp_connected_ = false;
  bool open_ = false;
  bool closing_ = false;
};

} // namespace client

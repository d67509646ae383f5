#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/write.hpp>
#include <websocketpp/transport/asio/security/base.hpp>
#include <websocketpp/uri.hpp>

#include "net/tls_stream.hpp"

// A websocketpp socket policy (in the place of websocketpp's basic_socket
// or tls_socket) whose connections speak TLS or plain TCP, as their
// endpoint was told at start. One connection type for both: the outbox,
// the pacing, keepalive and every handler are the same code either way,
// and only the bytes on the wire differ.
namespace net::either_socket {

using tcp = asio::ip::tcp;
using context_ptr = std::shared_ptr<asio::ssl::context>;
using stream = net::tls_stream;

/// The TLS context for a new connection; null for plain TCP.
using context_source = std::function<context_ptr()>;

/// What a plain HTTP client reads on a TLS port before it is closed.
inline const std::string& plain_refusal() {
  static const std::string text = [] {
    std::string body
      = "This port speaks TLS: use wss:// or https:// to reach it.\n";
    return "HTTP/1.1 400 Bad Request\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: "
           + std::to_string(body.size())
           + "\r\n"
             "Connection: close\r\n"
             "\r\n"
           + body;
  }();
  return text;
}

/// websocketpp's socket-policy connection (see security/none.hpp).
class connection : public std::enable_shared_from_this<connection> {
public:
  using type = connection;
  using ptr = std::shared_ptr<type>;
  using io_service_ptr = asio::io_context*;
  using strand_ptr = std::shared_ptr<asio::io_context::strand>;
  using socket_type = stream;
  using init_handler = websocketpp::transport::init_handler;
  using shutdown_handler
    = websocketpp::transport::asio::socket::shutdown_handler;

  ptr get_shared() {
    return shared_from_this();
  }

  bool is_secure() const {
    return static_cast<bool>(source_);
  }

  /// The stream the transport reads and writes: TLS or plain.
  stream& get_socket() {
    return *socket_;
  }

  /// The TCP socket below it, for socket options, either way.
  tcp::socket& get_raw_socket() {
    return socket_->lowest_layer();
  }

  tcp::socket& get_next_layer() {
    return socket_->lowest_layer();
  }

  void set_context_source(context_source source) {
    source_ = std::move(source);
  }

  /// Why the TLS handshake failed, e.g. "certificate verify failed".
  const std::error_code& tls_detail() const {
    return tls_detail_;
  }

  std::string get_remote_endpoint(std::error_code& ec) const {
    std::stringstream s;
    std::error_code aec;
    auto ep = socket_->lowest_layer().remote_endpoint(aec);
    if (aec) {
      ec = websocketpp::transport::error::make_error_code(
        websocketpp::transport::error::pass_through);
      s << "Error getting remote endpoint: " << aec.message();
    } else {
      ec = {};
      s << ep;
    }
    return s.str();
  }

  template <typename ErrorCodeType>
  static std::error_code translate_ec(ErrorCodeType ec) {
    namespace error = websocketpp::transport::error;
    if (ec.category() == asio::error::get_ssl_category())
      return error::make_error_code(error::tls_error);
    return error::make_error_code(error::pass_through);
  }

  static std::error_code translate_ec(std::error_code ec) {
    return ec;
  }

protected:
  std::error_code init_asio(io_service_ptr service, strand_ptr, bool server) {
    socket_ = std::make_unique<stream>(*service);
    server_ = server;
    return {};
  }

  void set_uri(websocketpp::uri_ptr uri) {
    uri_ = std::move(uri);
  }

  // Nothing here calls back with the handle.
  void set_handle(websocketpp::connection_hdl) {
  }

  // TLS takes the source's context now, not when the connection was made:
  // websocketpp makes a server's next connection before it accepts, and
  // that one must get a certificate reloaded in between. A TLS client
  // names the host (SNI) and checks the server's certificate for it.
  void pre_init(init_handler callback) {
    namespace socket = websocketpp::transport::asio::socket;
    if (source_) {
      context_ = source_();
      if (!context_) {
        callback(socket::make_error_code(socket::error::invalid_tls_context));
        return;
      }
      socket_->start_tls(*context_);
    }
    auto* tls = socket_->tls();
    if (tls && !server_ && uri_) {
      auto host = uri_->get_host();
      if (SSL_set_tlsext_host_name(tls->native_handle(), host.c_str()) != 1) {
        callback(
          socket::make_error_code(socket::error::tls_failed_sni_hostname));
        return;
      }
      tls->set_verify_mode(asio::ssl::verify_peer);
      tls->set_verify_callback(asio::ssl::host_name_verification(host));
    }
    callback({});
  }

  // TLS: a server first peeks at the client's first byte, so that a plain
  // HTTP client gets an answer it can read instead of a failed handshake.
  void post_init(init_handler callback) {
    if (!socket_->tls()) {
      callback({});
      return;
    }
    if (!server_) {
      handshake(asio::ssl::stream_base::client, std::move(callback));
      return;
    }
    auto self = get_shared();
    get_raw_socket().async_wait(
      tcp::socket::wait_read,
      [this, self, callback](const std::error_code& ec) {
        if (ec) {
          callback(ec);
          return;
        }
        unsigned char first = 0;
        std::error_code pec;
        get_raw_socket().receive(asio::buffer(&first, 1),
                                 tcp::socket::message_peek, pec);
        if (pec)
          callback(pec);
        else if (first == 0x16) // a TLS handshake record
          handshake(asio::ssl::stream_base::server, callback);
        else
          refuse_plain(callback);
      });
  }

  std::error_code get_ec() const {
    return ec_;
  }

  std::error_code cancel_socket() {
    std::error_code ec;
    get_raw_socket().cancel(ec);
    return ec;
  }

  // TLS: sends close_notify without waiting for the peer's (the WebSocket
  // close handshake already ended the session), so a TLS connection ends
  // as soon as a plain one. Not behind a write that is stuck (a client
  // that stopped reading): that one just ends.
  void async_shutdown(shutdown_handler callback) {
    auto* tls = socket_->tls();
    if (!tls || !handshake_done_ || socket_->writing()) {
      std::error_code ec;
      get_raw_socket().shutdown(tcp::socket::shutdown_both, ec);
      callback(ec);
      return;
    }
    auto* ssl = tls->native_handle();
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    tls->async_shutdown(
      [this, self = get_shared(), callback](const std::error_code& ec) {
        std::error_code ignored; // the peer may be gone already
        get_raw_socket().shutdown(tcp::socket::shutdown_both, ignored);
        callback(ec);
      });
  }

private:
  void handshake(asio::ssl::stream_base::handshake_type side,
                 init_handler callback) {
    namespace socket = websocketpp::transport::asio::socket;
    ec_ = socket::make_error_code(socket::error::tls_handshake_timeout);
    socket_->tls()->async_handshake(
      side, [this, self = get_shared(), callback](const std::error_code& ec) {
        tls_detail_ = ec;
        ec_ = ec ? socket::make_error_code(socket::error::tls_handshake_failed)
                 : std::error_code{};
        handshake_done_ = !ec;
        callback(ec_);
      });
  }

  // Reads what the plain client sent (so that closing does not reset the
  // connection under our answer), answers 400 and ends.
  void refuse_plain(init_handler callback) {
    namespace socket = websocketpp::transport::asio::socket;
    char sink[4096];
    std::error_code ec;
    auto& raw = get_raw_socket();
    auto ready = raw.available(ec);
    if (!ec && ready > 0)
      raw.read_some(asio::buffer(sink, std::min(ready, sizeof(sink))), ec);
    asio::async_write(
      raw, asio::buffer(plain_refusal()),
      [this, self = get_shared(), callback](const std::error_code&, size_t) {
        std::error_code ignored; // a client already gone is what we want
        get_raw_socket().shutdown(tcp::socket::shutdown_send, ignored);
        ec_ = socket::make_error_code(socket::error::tls_handshake_failed);
        callback(ec_);
      });
  }

  std::unique_ptr<stream> socket_;
  context_source source_;
  context_ptr context_;
  websocketpp::uri_ptr uri_;
  std::error_code ec_;
  std::error_code tls_detail_;
  bool server_ = false;
  bool handshake_done_ = false;
};

/// websocketpp's socket-policy endpoint: gives each new connection the
/// context source (none: plain TCP).
class endpoint {
public:
  using type = endpoint;
  using socket_con_type = connection;
  using socket_con_ptr = connection::ptr;

  bool is_secure() const {
    return static_cast<bool>(source_);
  }

  /// TLS for every connection made after this; an empty source: plain.
  void set_context_source(context_source source) {
    source_ = std::move(source);
  }

protected:
  std::error_code init(socket_con_ptr con) {
    con->set_context_source(source_);
    return {};
  }

private:
  context_source source_;
};

} // namespace net::either_socket

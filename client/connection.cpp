#include "client/connection.hpp"

#include <iostream>

namespace client {

namespace {

using websocketpp::connection_hdl;

// Gives up on a server that does not answer within this long.
constexpr long open_timeout_ms = 5000;
constexpr long close_timeout_ms = 2000;

// The most telling error message websocketpp has for a failure.
std::string describe(const ws_client::connection_ptr& con) {
  auto ec = con->get_ec();
  if (ec == websocketpp::transport::error::timeout
      || ec == websocketpp::error::open_handshake_timeout)
    return "no answer within " + std::to_string(open_timeout_ms / 1000) + " s";
  namespace socket = websocketpp::transport::asio::socket;
  if (ec == socket::make_error_code(socket::error::tls_handshake_failed)
      && con->tls_detail())
    return "TLS handshake failed: " + con->tls_detail().message();
  if (ec == websocketpp::transport::error::eof)
    return "the server's end closed without a WebSocket close frame";
  if (ec == websocketpp::transport::error::pass_through
      && con->get_transport_ec())
    return con->get_transport_ec().message();
  return ec ? ec.message() : "unknown error";
}

} // namespace

connection::connection(asio::io_context& io, handlers hs)
  : handlers_(std::move(hs)) {
  client_.clear_access_channels(websocketpp::log::alevel::all);
  client_.clear_error_channels(websocketpp::log::elevel::all);
  client_.init_asio(&io);
  client_.set_user_agent("chat-client");
  client_.set_open_handshake_timeout(open_timeout_ms);
  client_.set_close_handshake_timeout(close_timeout_ms);
  // Called once TCP is connected (before TLS): from here on a failure is
  // the server's answer to our handshake, not an unreachable server.
  client_.set_tcp_pre_init_handler([this](connection_hdl hdl) {
    tcp_connected_ = true;
    no_delay(hdl);
  });
  client_.set_open_handler([this](connection_hdl) {
    open_ = true;
    handlers_.on_open();
  });
  client_.set_fail_handler([this](connection_hdl hdl) { on_fail(hdl); });
  client_.set_close_handler([this](connection_hdl hdl) { on_close(hdl); });
  client_.set_message_handler(
    [this](connection_hdl, ws_client::message_ptr msg) {
      if (msg->get_opcode() == websocketpp::frame::opcode::text)
        handlers_.on_text(msg->get_payload());
      else
        handlers_.on_binary(msg->get_payload().size());
    });
}

std::error_code connection::connect(const std::string& url,
                                    const std::string& ca_file) {
  std::error_code ec;
  if (websocketpp::uri{url}.get_secure()) {
    tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    if (ca_file.empty())
      tls_->set_default_verify_paths(ec);
    else
      tls_->load_verify_file(ca_file, ec);
    if (ec)
      return ec;
    client_.set_context_source([tls = tls_] { return tls; });
  }
  auto con = client_.get_connection(url, ec);
  if (ec)
    return ec;
  hdl_ = con->get_handle();
  client_.connect(con);
  return {};
}

void connection::send(const std::string& text) {
  if (!open_)
    return;
  // A failure here also ends the session, which on_close reports.
  std::error_code ec;
  client_.send(hdl_, text, websocketpp::frame::opcode::text, ec);
}

bool connection::close(uint16_t code, const std::string& reason) {
  if (!open_)
    return false;
  open_ = false;
  closing_ = true;
  std::error_code ec;
  client_.close(hdl_, code, reason, ec);
  return !ec;
}

// Typed lines are small: send each at once instead of waiting for the ACK
// of the last (Nagle). Set on the connected socket: before the connect
// (websocketpp's socket-init handler) there is no socket to set it on.
void connection::no_delay(connection_hdl hdl) {
  std::error_code ec;
  auto con = client_.get_con_from_hdl(hdl, ec);
  if (!con)
    return; // gone already: on_fail or on_close tells
  con->get_socket().set_option(asio::ip::tcp::no_delay{true}, ec);
  if (ec)
    std::cerr << "chat-client: cannot send lines at once (TCP_NODELAY): "
              << ec.message() << '\n';
}

void connection::on_fail(connection_hdl hdl) {
  std::error_code ec;
  auto con = client_.get_con_from_hdl(hdl, ec);
  if (!con)
    return;
  ending result{ending::unreachable, describe(con)};
  if (auto status = con->get_response_code();
      status != websocketpp::http::status_code::uninitialized) {
    // The server answered, but not with 101 Switching Protocols.
    result.what = ending::refused;
    result.detail = "HTTP " + std::to_string(status) + " "
                    + con->get_response_msg();
  } else if (tcp_connected_) {
    result.what = ending::refused;
  }
  open_ = false;
  handlers_.on_end(result);
}

void connection::on_close(connection_hdl hdl) {
  std::error_code ec;
  auto con = client_.get_con_from_hdl(hdl, ec);
  if (!con)
    return;
  open_ = false;
  ending result{ending::we_closed, {}};
  if (closing_) {
    // Our own close, answered or not.
  } else if (auto code = con->get_remote_close_code();
             code == websocketpp::close::status::abnormal_close) {
    // No close frame came: the connection dropped.
    result.what = ending::lost;
    result.detail = describe(con);
  } else {
    result.what = ending::server_closed;
    result.close_code = code;
    result.detail = con->get_remote_close_reason();
  }
  handlers_.on_end(result);
}

} // namespace client

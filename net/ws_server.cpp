#include "net/ws_server.hpp"

#include <iostream>

#include <caf/send.hpp>
#include <websocketpp/processors/processor.hpp>

#include "net/ws_link.hpp"

namespace net {

namespace {

using websocketpp::connection_hdl;

// Reports an error, staying quiet about the normal ways a connection ends.
void fail(const std::error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted || ec == asio::error::eof)
    return;
  std::cerr << "chat-node: " << what << ": " << ec.message() << '\n';
}

// Gives up on a client that does not answer our close frame within this.
constexpr long close_timeout_ms = 2000;

} // namespace

ws_server::ws_server(ws_server_config config, session_factory make_session,
                     bridge_stats& stats, const http_service& http)
  : config_(std::move(config)),
    allowed_origins_(parse_origins(config_.allowed_origins)),
    make_session_(std::move(make_session)),
    stats_(stats),
    http_(http) {
  endpoint_.clear_access_channels(websocketpp::log::alevel::all);
  endpoint_.clear_error_channels(websocketpp::log::elevel::all);
  endpoint_.init_asio(&io_);
  endpoint_.set_reuse_addr(true);
  endpoint_.set_max_message_size(config_.max_message_bytes);
  endpoint_.set_close_handshake_timeout(close_timeout_ms);
  // Chat lines are small: send each at once instead of waiting for an ACK.
  endpoint_.set_socket_init_handler(
    [](connection_hdl, asio::ip::tcp::socket& s) {
      std::error_code ec;
      s.set_option(asio::ip::tcp::no_delay{true}, ec);
    });
  endpoint_.set_open_handler([this](connection_hdl hdl) { on_open(hdl); });
  endpoint_.set_close_handler([this](connection_hdl hdl) { on_close(hdl); });
  endpoint_.set_message_handler(
    [this](connection_hdl hdl, ws_endpoint::message_ptr msg) {
      on_message(hdl, std::move(msg));
    });
  endpoint_.set_http_handler([this](connection_hdl hdl) { on_http(hdl); });
  endpoint_.set_validate_handler(
    [this](connection_hdl hdl) { return on_validate(hdl); });
  endpoint_.set_fail_handler([this](connection_hdl hdl) { on_fail(hdl); });
}

std::error_code ws_server::listen() {
  // Resolve the host ourselves and prefer IPv4, so `localhost` binds
  // 127.0.0.1 whatever order the resolver returns.
  asio::ip::tcp::resolver resolver{io_};
  std::error_code ec;
  auto results = resolver.resolve(config_.host, std::to_string(config_.port),
                                  ec);
  if (ec)
    return ec;
  auto chosen = results.begin()->endpoint();
  for (auto& entry : results)
    if (entry.endpoint().address().is_v4()) {
      chosen = entry.endpoint();
      break;
    }
  endpoint_.listen(chosen, ec);
  if (ec)
    return ec;
  endpoint_.start_accept(ec);
  return ec;
}

asio::ip::tcp::endpoint ws_server::local_endpoint() {
  std::error_code ec;
  return endpoint_.get_local_endpoint(ec);
}

void ws_server::run() {
  io_.run();
}

void ws_server::shutdown(const std::string& goodbye) {
  stopping_ = true;
  goodbye_ = goodbye;
  std::error_code ec;
  endpoint_.stop_listening(ec);
  if (ec)
    fail(ec, "stop listening");
  // Closing may call on_close, which edits open_: walk a copy.
  auto open = open_;
  for (auto& hdl : open)
    if (auto con = endpoint_.get_con_from_hdl(hdl, ec))
      say_goodbye(con);
}

void ws_server::say_goodbye(const ws_connection_ptr& con) {
  std::error_code ec;
  if (!con->send(goodbye_, websocketpp::frame::opcode::text))
    bump(stats_.frames_out);
  con->close(websocketpp::close::status::going_away, goodbye_, ec);
}

void ws_server::on_open(connection_hdl hdl) {
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con)
    return;
  bump(stats_.connections_accepted);
  if (stopping_) {
    say_goodbye(con);
    return;
  }
  con->session = make_session_(std::make_shared<ws_link>(io_, con, stats_));
  open_.insert(hdl);
  bump(stats_.sessions_connected);
}

void ws_server::on_close(connection_hdl hdl) {
  open_.erase(hdl);
  std::error_code ec;
  if (auto con = endpoint_.get_con_from_hdl(hdl, ec); con && con->session) {
    stats_.sessions_connected.fetch_sub(1, std::memory_order_relaxed);
    caf::anon_send(con->session, chat::closed_atom_v);
  }
}

void ws_server::on_http(connection_hdl hdl) {
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con)
    return;
  bump(stats_.http_requests);
  auto res = http_.handle(con->get_request().get_method(), con->get_resource(),
                          http_service::clock::now());
  // These throw only outside a handler; no exception may leave Asio's.
  try {
    con->set_status(
      static_cast<websocketpp::http::status_code::value>(res.status));
    for (auto& [key, value] : res.headers)
      con->replace_header(key, value);
    // websocketpp closes the connection after every plain HTTP answer.
    con->replace_header("Connection", "close");
    con->set_body(res.body);
  } catch (const websocketpp::exception& e) {
    std::cerr << "chat-node: HTTP answer: " << e.what() << '\n';
  }
}

bool ws_server::on_validate(connection_hdl hdl) {
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con)
    return false;
  if (origin_allowed(allowed_origins_, con->get_request_header("Origin")))
    return true;
  try {
    con->set_status(websocketpp::http::status_code::forbidden);
  } catch (const websocketpp::exception&) {
    // Refused all the same, with websocketpp's default 400.
  }
  return false;
}

void ws_server::on_fail(connection_hdl hdl) {
  // websocketpp ends plain HTTP exchanges here too: count upgrades only.
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (con && websocketpp::processor::is_websocket_handshake(con->get_request()))
    bump(stats_.connections_refused);
}

void ws_server::on_message(connection_hdl hdl, ws_endpoint::message_ptr msg) {
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con || !con->session)
    return;
  bump(stats_.frames_in);
  if (msg->get_opcode() == websocketpp::frame::opcode::text)
    caf::anon_send(con->session, chat::text_atom_v,
                   std::move(msg->get_raw_payload()));
  else
    caf::anon_send(con->session, chat::binary_atom_v);
}

} // namespace net

#include "net/ws_server.hpp"

#include <algorithm>
#include <iostream>

#include <caf/send.hpp>
#include <websocketpp/processors/processor.hpp>

#include "net/frame.hpp"
#include "net/tcp_socket.hpp"
#include "net/ws_link.hpp"

namespace net {

namespace {

using std::chrono::steady_clock;
using websocketpp::connection_hdl;

// Reports an error, staying quiet about the normal ways a connection ends.
void fail(const std::error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted || ec == asio::error::eof)
    return;
  std::cerr << "chat-node: " << what << ": " << ec.message() << '\n';
}

// Answers a request with `res`, as websocketpp's handlers may: no
// exception leaves them, and these throw only outside a handler. Every
// answer has a Content-Length: the body's, or the one `res` names (HEAD).
void answer(ws_connection& con, const http_response& res) {
  try {
    con.set_status(
      static_cast<websocketpp::http::status_code::value>(res.status));
    con.replace_header("Content-Length", std::to_string(res.body.size()));
    for (auto& [key, value] : res.headers)
      con.replace_header(key, value);
    // websocketpp's set_body("") would also drop Content-Length.
    if (!res.body.empty())
      con.set_body(res.body);
  } catch (const websocketpp::exception& e) {
    std::cerr << "chat-node: HTTP answer: " << e.what() << '\n';
  }
}

// The headers the admission decides on.
upgrade_headers upgrade_headers_of(ws_connection& con) {
  auto& req = con.get_request();
  return {req.get_header("Upgrade"), req.get_header("Connection"),
          req.get_header("Sec-WebSocket-Key"),
          req.get_header("Sec-WebSocket-Version"), req.get_header("Origin")};
}

// Gives up on a client that does not answer our close frame within this.
constexpr long close_timeout_ms = 2000;

long to_ms(std::chrono::nanoseconds dt) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(dt).count();
}

// websocketpp keeps the opening handshake, every header of the request and
// of the response, for the life of the connection: ~1.2 KB per idle client.
// In 0.8.2 a server connection reads them only up to its open log, before
// the open handler; after it, neither websocketpp nor we do. It offers the
// two only as const, but they are not const objects, so emptying them is
// well defined.
void release_handshake(ws_connection& con) {
  const_cast<ws_config::request_type&>(con.get_request()) = {};
  const_cast<ws_config::response_type&>(con.get_response()) = {};
}

} // namespace

ws_server::ws_server(ws_server_config config, session_factory make_session,
                     bridge_stats& stats, const http_service& http)
  : config_(std::move(config)),
    make_session_(std::move(make_session)),
    stats_(stats),
    http_(http),
    admission_(config_.allowed_origins, config_.max_clients,
               config_.max_clients_per_address),
    tcp_options_{config_.send_buffer_bytes,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                   config_.ping_interval),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                   config_.pong_timeout)},
    out_(io_, config_.max_backlog_bytes, stats_),
    pacer_(io_, config_.max_frames_per_second, config_.frame_burst, stats_,
           [this](const ws_connection_ptr& con, ws_message_ptr msg) {
             pass_on(con, std::move(msg));
           }),
    ping_timer_(io_) {
  endpoint_.clear_access_channels(websocketpp::log::alevel::all);
  endpoint_.clear_error_channels(websocketpp::log::elevel::all);
  endpoint_.init_asio(&io_);
  // The Server header; short enough for each connection's copy to need no
  // allocation of its own.
  endpoint_.set_user_agent("chat-node");
  endpoint_.set_reuse_addr(true);
  if (config_.reuse_port)
    endpoint_.set_tcp_pre_bind_handler(
      [](const std::shared_ptr<asio::ip::tcp::acceptor>& acceptor) {
        using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET,
                                                                SO_REUSEPORT>;
        std::error_code ec;
        acceptor->set_option(reuse_port{true}, ec);
        return ec;
      });
  endpoint_.set_listen_backlog(asio::socket_base::max_listen_connections);
  endpoint_.set_max_message_size(config_.max_message_bytes);
  endpoint_.set_open_handshake_timeout(to_ms(config_.handshake_timeout));
  endpoint_.set_close_handshake_timeout(close_timeout_ms);
  endpoint_.set_pong_timeout(to_ms(config_.pong_timeout));
  // Runs once the socket is accepted and open (websocketpp's socket-init
  // handler runs before accept, where options fail).
  endpoint_.set_tcp_pre_init_handler(
    [this](connection_hdl hdl) { on_socket_accepted(hdl); });
  endpoint_.set_validate_handler(
    [this](connection_hdl hdl) { return on_validate(hdl); });
  endpoint_.set_open_handler([this](connection_hdl hdl) { on_open(hdl); });
  endpoint_.set_close_handler([this](connection_hdl hdl) { on_close(hdl); });
  endpoint_.set_message_handler([this](connection_hdl hdl, ws_message_ptr msg) {
    on_message(hdl, std::move(msg));
  });
  endpoint_.set_http_handler([this](connection_hdl hdl) { on_http(hdl); });
  endpoint_.set_fail_handler([this](connection_hdl hdl) { on_fail(hdl); });
  // A pong says the client was there when we pinged: the next ping goes
  // out one interval after this one, not after the pong.
  endpoint_.set_pong_handler([this](connection_hdl hdl, std::string) {
    if (auto con = connection(hdl))
      con->last_heard = std::max(con->last_heard, con->pinged_at);
  });
  endpoint_.set_pong_timeout_handler([this](connection_hdl hdl, std::string) {
    if (auto con = connection(hdl))
      on_pong_timeout(con);
  });
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
  if (!ec)
    ping_idle_clients();
  return ec;
}

void ws_server::use_tls(const tls_context& tls) {
  endpoint_.set_context_source([&tls] { return tls.current(); });
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
  ping_timer_.cancel();
  std::error_code ec;
  endpoint_.stop_listening(ec);
  if (ec)
    fail(ec, "stop listening");
  // Closing may call on_close, which edits open_: walk a copy.
  auto open = open_;
  for (auto& hdl : open)
    if (auto con = connection(hdl))
      say_goodbye(con);
}

// The connection behind `hdl`, or null once websocketpp let go of it.
ws_connection_ptr ws_server::connection(connection_hdl hdl) {
  std::error_code ec;
  return endpoint_.get_con_from_hdl(hdl, ec);
}

void ws_server::on_socket_accepted(connection_hdl hdl) {
  auto con = connection(hdl);
  if (!con)
    return;
  con->sink.attach(*con);
  // The raw TCP socket, whatever the transport above it.
  if (auto failed = set_client_options(con->get_raw_socket(), tcp_options_))
    std::cerr << "chat-node: on an accepted socket: " << *failed << '\n';
}

bool ws_server::on_validate(connection_hdl hdl) {
  auto con = connection(hdl);
  if (!con)
    return false;
  std::optional<address_counts::key> address;
  size_t from_address = 0;
  std::string address_text;
  if (admission_.limits_addresses()) {
    std::error_code ec;
    auto peer = con->get_raw_socket().remote_endpoint(ec);
    if (ec) // the client is gone already
      return false;
    auto ip = address_counts::normalized(peer.address());
    address = address_counts::key_of(ip);
    from_address = addresses_.count(*address);
    address_text = ip.to_string();
  }
  auto refusal = admission_.refusal(upgrade_headers_of(*con), open_.size(),
                                    from_address, address_text);
  if (refusal) {
    if (refusal->status == 429)
      bump(stats_.address_limit_refusals);
    answer(*con, *refusal);
    return false;
  }
  // Counted from here, not from on_open: one address's handshakes may all
  // be admitted before the first 101 is written. Its end, a failed
  // handshake or a closed session, takes it off again (forget_address).
  if (address) {
    addresses_.add(*address);
    con->counted_address = address;
  }
  return true;
}

void ws_server::on_open(connection_hdl hdl) {
  auto con = connection(hdl);
  if (!con)
    return;
  bump(stats_.connections_accepted);
  if (stopping_) {
    say_goodbye(con);
    return;
  }
  auto now = steady_clock::now();
  con->last_heard = now;
  pacer_.start(*con, now);
  con->session = make_session_(std::make_shared<ws_link>(out_, con));
  release_handshake(*con);
  open_.insert(hdl);
  bump(stats_.sessions_connected);
}

void ws_server::on_close(connection_hdl hdl) {
  open_.erase(hdl);
  auto con = connection(hdl);
  if (!con)
    return;
  forget_address(*con);
  // Not a completed close handshake (it timed out, or the socket failed):
  // reset, so the kernel does not hold what the client never read, with a
  // FIN behind it, for as long as the client acknowledges a tiny window.
  if (con->get_ec()) {
    if (auto ec = abort_connection(con->get_raw_socket());
        ec && ec != asio::error::bad_descriptor) // closed already
      fail(ec, "resetting a connection");
    // The kernel's TCP_USER_TIMEOUT, unless our ping's had struck first.
    if (con->get_transport_ec() == std::errc::timed_out
        && !con->sink.dropping())
      bump(stats_.ping_timeouts);
  }
  if (!con->session)
    return;
  stats_.sessions_connected.fetch_sub(1, std::memory_order_relaxed);
  pacer_.on_close(con);
  caf::anon_send(con->session, chat::closed_atom_v);
}

void ws_server::on_http(connection_hdl hdl) {
  auto con = connection(hdl);
  if (!con)
    return;
  bump(stats_.http_requests);
  // Part of a WebSocket handshake, but not enough for websocketpp to see
  // one: a client's mistake, not a request for the page.
  auto broken = handshake_admission::half_upgrade(upgrade_headers_of(*con));
  auto res = broken
               ? std::move(*broken)
               : http_.handle(con->get_request().get_method(),
                              con->get_resource(), http_service::clock::now());
  // websocketpp closes the connection after every plain HTTP answer.
  res.headers.emplace_back("Connection", "close");
  answer(*con, res);
}

void ws_server::on_fail(connection_hdl hdl) {
  // websocketpp ends plain HTTP exchanges here too: count upgrades only.
  auto con = connection(hdl);
  // Admitted, but its 101 never went out (a write error, the handshake
  // timeout).
  if (con)
    forget_address(*con);
  if (con && websocketpp::processor::is_websocket_handshake(con->get_request()))
    bump(stats_.connections_refused);
}

void ws_server::on_message(connection_hdl hdl, ws_message_ptr msg) {
  auto con = connection(hdl);
  if (!con || !con->session)
    return;
  bump(stats_.frames_in);
  auto now = steady_clock::now();
  con->last_heard = now;
  pacer_.on_frame(con, std::move(msg), now);
}

void ws_server::pass_on(const ws_connection_ptr& con, ws_message_ptr msg) {
  if (msg->get_opcode() == websocketpp::frame::opcode::text)
    caf::anon_send(con->session, chat::text_atom_v,
                   std::move(msg->get_raw_payload()));
  else
    caf::anon_send(con->session, chat::binary_atom_v);
}

// Pings every client that was silent for a whole interval; websocketpp
// calls the pong-timeout handler for those that do not answer. A client
// whose last ping is still unanswered and unjudged is left alone: a new
// ping would restart websocketpp's pong timer, and with --pong-timeout
// longer than --ping-interval it would never be judged.
void ws_server::ping_idle_clients() {
  auto now = steady_clock::now();
  for (auto& hdl : open_)
    if (auto con = connection(hdl);
        con && now - con->last_heard >= config_.ping_interval
        && con->pinged_at <= con->last_heard) {
      con->pinged_at = now;
      std::error_code ec;
      con->ping("", ec);
      // A connection already closing refuses (invalid state): that is its
      // end under way, not a fault.
      if (ec && ec != websocketpp::error::invalid_state)
        fail(ec, "ping");
    }
  ping_timer_.expires_after(config_.ping_interval);
  ping_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec)
      ping_idle_clients();
  });
}

void ws_server::forget_address(ws_connection& con) {
  if (con.counted_address) {
    addresses_.remove(*con.counted_address);
    con.counted_address.reset();
  }
}

// No pong within the timeout. The client's program may only be busy (a
// terminal client blocked on its prompt answers no ping): the kernel tells
// whether its host still acknowledges what we send. Busy clients stay;
// their backlog cap bounds what they cost.
void ws_server::on_pong_timeout(const ws_connection_ptr& con) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  // websocketpp's pong timer outlives a connection that ended meanwhile.
  if (con->get_state() != websocketpp::session::state::open
      || con->sink.dropping())
    return;
  std::error_code ec;
  auto facts = read_tcp_facts(con->get_raw_socket(), ec);
  if (ec)
    fail(ec, "TCP_INFO");
  auto since_ping
    = duration_cast<milliseconds>(steady_clock::now() - con->pinged_at);
  if (facts && peer_host_answers(*facts, since_ping)) {
    con->last_heard = std::max(con->last_heard, con->pinged_at);
    bump(stats_.busy_clients_kept);
    return;
  }
  bump(stats_.ping_timeouts);
  con->sink.drop("no answer to ping");
}

void ws_server::say_goodbye(const ws_connection_ptr& con) {
  if (out_.push(sink_of(con), text_frame(goodbye_)))
    bump(stats_.frames_out);
  // The only refusal is a connection already closing: ending anyway.
  std::error_code ignored;
  con->close(websocketpp::close::status::going_away, goodbye_, ignored);
}

} // namespace net

#include "net/ws_server.hpp"

#include <iostream>

#include <caf/send.hpp>
#include <websocketpp/processors/processor.hpp>

#include "net/frame.hpp"
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
void release_handshake(ws_endpoint::connection_type& con) {
  const_cast<ws_config::request_type&>(con.get_request()) = {};
  const_cast<ws_config::response_type&>(con.get_response()) = {};
}

} // namespace

ws_server::ws_server(ws_server_config config, session_factory make_session,
                     bridge_stats& stats, const http_service& http)
  : config_(std::move(config)),
    allowed_origins_(parse_origins(config_.allowed_origins)),
    make_session_(std::move(make_session)),
    stats_(stats),
    http_(http),
    ping_timer_(io_) {
  endpoint_.clear_access_channels(websocketpp::log::alevel::all);
  endpoint_.clear_error_channels(websocketpp::log::elevel::all);
  endpoint_.init_asio(&io_);
  // The Server header; short enough for each connection's copy to need no
  // allocation of its own.
  endpoint_.set_user_agent("chat-node");
  endpoint_.set_reuse_addr(true);
  endpoint_.set_listen_backlog(asio::socket_base::max_listen_connections);
  endpoint_.set_max_message_size(config_.max_message_bytes);
  endpoint_.set_open_handshake_timeout(to_ms(config_.handshake_timeout));
  endpoint_.set_close_handshake_timeout(close_timeout_ms);
  endpoint_.set_pong_timeout(to_ms(config_.pong_timeout));
  // Chat lines are small: send each at once instead of waiting for an ACK.
  endpoint_.set_socket_init_handler(
    [](connection_hdl, asio::ip::tcp::socket& s) {
      std::error_code ec;
      s.set_option(asio::ip::tcp::no_delay{true}, ec);
    });
  endpoint_.set_validate_handler(
    [this](connection_hdl hdl) { return on_validate(hdl); });
  endpoint_.set_open_handler([this](connection_hdl hdl) { on_open(hdl); });
  endpoint_.set_close_handler([this](connection_hdl hdl) { on_close(hdl); });
  endpoint_.set_message_handler(
    [this](connection_hdl hdl, ws_endpoint::message_ptr msg) {
      on_message(hdl, std::move(msg));
    });
  endpoint_.set_http_handler([this](connection_hdl hdl) { on_http(hdl); });
  endpoint_.set_fail_handler([this](connection_hdl hdl) { on_fail(hdl); });
  endpoint_.set_pong_handler([this](connection_hdl hdl, std::string) {
    std::error_code ec;
    if (auto con = endpoint_.get_con_from_hdl(hdl, ec))
      con->last_heard = steady_clock::now();
  });
  endpoint_.set_pong_timeout_handler([this](connection_hdl hdl, std::string) {
    std::error_code ec;
    if (auto con = endpoint_.get_con_from_hdl(hdl, ec)) {
      bump(stats_.ping_timeouts);
      drop(con, "no answer to ping");
    }
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
    if (auto con = endpoint_.get_con_from_hdl(hdl, ec))
      say_goodbye(con);
}

void ws_server::deliver(std::weak_ptr<ws_endpoint::connection_type> con,
                        chat::shared_text text) {
  queue({std::move(con), nullptr, nullptr, std::move(text)});
}

void ws_server::deliver(chat::link_group group, const chat::client_link* except,
                        chat::shared_text text) {
  queue({{}, std::move(group), except, std::move(text)});
}

void ws_server::queue(delivery d) {
  if (delivered_.push(std::move(d)))
    asio::post(io_, [this] { send_delivered(); });
}

// Queues what actors handed over since the last turn into the clients'
// outboxes; flush_all() writes each outbox once, after the handlers that
// are ready now have had their turn and perhaps added to it.
void ws_server::send_delivered() {
  delivered_.take(sending_);
  size_t sent = 0;
  for (size_t i = 0; i < sending_.size();) {
    auto& d = sending_[i];
    if (d.group) {
      i = send_group_run(i, sent);
      continue;
    }
    if (auto con = d.con.lock()) {
      framed_.clear();
      append_text_frame(framed_, *d.text);
      sent += send(con, framed_);
    }
    ++i;
  }
  sending_.clear();
  // One atomic add per batch, not one per recipient.
  stats_.frames_out.fetch_add(sent, std::memory_order_relaxed);
}

// Sends the run of broadcasts to one group that starts at `first`; returns
// where the run ends. The run's lines are framed once, back to back: a
// recipient that gets every line of the run (all but the lines' senders)
// takes them in one copy into its outbox, a sender the others' one by one.
size_t ws_server::send_group_run(size_t first, size_t& sent) {
  auto& group = *sending_[first].group;
  auto last = first;
  framed_.clear();
  frame_starts_.assign(1, 0);
  while (last < sending_.size()
         && sending_[last].group == sending_[first].group) {
    append_text_frame(framed_, *sending_[last++].text);
    frame_starts_.push_back(framed_.size());
  }
  std::string_view all = framed_;
  auto frame = [&](size_t k) {
    auto begin = frame_starts_[k - first];
    return all.substr(begin, frame_starts_[k - first + 1] - begin);
  };
  for (auto& link : group) {
    auto con = static_cast<const ws_link&>(*link).connection().lock();
    if (!con)
      continue;
    if (!excepted(link.get(), first, last)) {
      if (send(con, all))
        sent += last - first;
      continue;
    }
    for (auto k = first; k < last; ++k)
      if (sending_[k].except != link.get())
        sent += send(con, frame(k));
  }
  return last;
}

// Whether `link` sent one of the lines from `first` to `last`.
bool ws_server::excepted(const chat::client_link* link, size_t first,
                         size_t last) const {
  for (auto k = first; k < last; ++k)
    if (sending_[k].except == link)
      return true;
  return false;
}

// Whether `bytes` more may be queued for `con`; drops the client if its
// backlog would grow too large.
bool ws_server::admit(const ws_connection_ptr& con, size_t bytes) {
  if (con->dropping)
    return false;
  if (con->get_buffered_amount() + con->unsent_bytes() + bytes
      <= config_.max_backlog_bytes)
    return true;
  bump(stats_.slow_consumer_drops);
  drop(con, "too slow: more than " + std::to_string(config_.max_backlog_bytes)
              + " bytes unsent");
  return false;
}

// Queues `frames` for `con`, or drops the client if its backlog is too
// large. Returns whether they were queued.
bool ws_server::send(const ws_connection_ptr& con, std::string_view frames) {
  if (con->get_state() != websocketpp::session::state::open || con->broken()
      || !admit(con, frames.size()))
    return false;
  if (con->queue(frames)) {
    if (unflushed_.empty())
      asio::post(io_, [this] { flush_all(); });
    unflushed_.push_back(con);
  }
  return true;
}

void ws_server::flush_all() {
  for (auto& con : unflushed_)
    con->flush();
  unflushed_.clear();
}

void ws_server::drop(const ws_connection_ptr& con, const std::string& why) {
  con->dropping = true;
  // The close frame waits behind the backlog; the close timeout then
  // ends the TCP connection if the client never reads it.
  std::error_code ec;
  con->close(websocketpp::close::status::policy_violation, why, ec);
}

void ws_server::say_goodbye(const ws_connection_ptr& con) {
  std::error_code ec;
  if (send(con, text_frame(goodbye_)))
    bump(stats_.frames_out);
  con->close(websocketpp::close::status::going_away, goodbye_, ec);
}

bool ws_server::on_validate(connection_hdl hdl) {
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con)
    return false;
  // These throw only outside a handler; no exception may leave Asio's.
  try {
    // RFC 6455 and the drafts that frame as it does (7, 8) name their
    // version; websocketpp also takes the pre-RFC draft hixie-76, which
    // does not, frames differently, and whose key after the headers it
    // misreads when that key straddles two reads. PROTOCOL.md is RFC 6455.
    if (con->get_request_header("Sec-WebSocket-Version").empty()) {
      con->set_status(websocketpp::http::status_code::upgrade_required);
      con->replace_header("Sec-WebSocket-Version", "13, 8, 7");
      return false;
    }
    if (!origin_allowed(allowed_origins_, con->get_request_header("Origin"))) {
      con->set_status(websocketpp::http::status_code::forbidden);
      return false;
    }
    if (config_.max_clients != 0 && open_.size() >= config_.max_clients) {
      con->set_status(websocketpp::http::status_code::service_unavailable);
      con->set_body("chat-node is full: " + std::to_string(open_.size())
                    + " clients connected; try again later\n");
      return false;
    }
  } catch (const websocketpp::exception&) {
    return false; // refused all the same, with websocketpp's default 400
  }
  return true;
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
  auto now = steady_clock::now();
  con->last_heard = now;
  con->reads = token_bucket{config_.max_frames_per_second, config_.frame_burst,
                            now};
  con->session = make_session_(std::make_shared<ws_link>(*this, con));
  release_handshake(*con);
  open_.insert(hdl);
  bump(stats_.sessions_connected);
}

void ws_server::on_close(connection_hdl hdl) {
  open_.erase(hdl);
  std::error_code ec;
  auto con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con || !con->session)
    return;
  stats_.sessions_connected.fetch_sub(1, std::memory_order_relaxed);
  if (con->resume)
    con->resume->cancel();
  // What the client sent before it left still counts, in order.
  for (auto& msg : con->held)
    pass_on(con, std::move(msg));
  con->held.clear();
  caf::anon_send(con->session, chat::closed_atom_v);
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
  auto now = steady_clock::now();
  con->last_heard = now;
  if (con->held.empty() && con->reads.try_take(now)) {
    pass_on(con, std::move(msg));
    return;
  }
  // Over its rate: hold the frame and stop reading this client. Its next
  // frames wait in its socket and TCP slows the sender down; nothing is
  // dropped. Held frames are at most one read buffer's worth.
  con->held.push_back(std::move(msg));
  if (con->held.size() > 1)
    return;
  if (!con->rate_limited) {
    con->rate_limited = true;
    bump(stats_.rate_limited_clients);
  }
  // pause_reading() would only post this, and the read websocketpp starts
  // when this handler returns would slip through. We are on its thread.
  con->handle_pause_reading();
  if (!con->resume)
    con->resume = std::make_unique<asio::steady_timer>(io_);
  // Not release_held(con) right here: resuming inside websocketpp's read
  // handler would start a second read.
  wait_for_token(con);
}

void ws_server::pass_on(const ws_connection_ptr& con,
                        ws_endpoint::message_ptr msg) {
  if (msg->get_opcode() == websocketpp::frame::opcode::text)
    caf::anon_send(con->session, chat::text_atom_v,
                   std::move(msg->get_raw_payload()));
  else
    caf::anon_send(con->session, chat::binary_atom_v);
}

// Passes on held frames as tokens come due; reads again once none are left.
void ws_server::release_held(const ws_connection_ptr& con) {
  auto now = steady_clock::now();
  auto& held = con->held;
  auto due = held.begin();
  while (due != held.end() && con->reads.try_take(now))
    pass_on(con, std::move(*due++));
  held.erase(held.begin(), due);
  if (con->held.empty())
    con->handle_resume_reading(); // paused for sure: no read in flight
  else
    wait_for_token(con);
}

void ws_server::wait_for_token(const ws_connection_ptr& con) {
  con->resume->expires_after(con->reads.wait_time(steady_clock::now()));
  // A paused connection has no read pending to keep it alive: this does.
  con->resume->async_wait([this, con](const std::error_code& ec) {
    if (!ec && con->get_state() == websocketpp::session::state::open)
      release_held(con);
  });
}

// Pings every client that was silent for a whole interval; websocketpp
// calls the pong-timeout handler for those that do not answer.
void ws_server::ping_idle_clients() {
  auto now = steady_clock::now();
  std::error_code ec;
  for (auto& hdl : open_)
    if (auto con = endpoint_.get_con_from_hdl(hdl, ec);
        con && now - con->last_heard >= config_.ping_interval)
      con->ping("", ec);
  ping_timer_.expires_after(config_.ping_interval);
  ping_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec)
      ping_idle_clients();
  });
}

} // namespace net

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "actors/interfaces.hpp"
#include "net/bridge_stats.hpp"
#include "net/handoff.hpp"
#include "net/http_service.hpp"
#include "net/origins.hpp"
#include "net/outbox_transport.hpp"
#include "net/token_bucket.hpp"

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
    /// Paces the frames we pass on from this client.
    token_bucket reads{0, 1, {}};
    /// Frames read but not yet passed on, while the client is paced.
    /// (A vector: unlike a deque it allocates nothing while empty, which is
    /// nearly always.)
    std::vector<websocketpp::config::asio::message_type::ptr> held;
    /// Passes on the next held frame when the bucket has a token again.
    std::unique_ptr<::asio::steady_timer> resume;
    /// When the client last sent anything (frames or pongs).
    std::chrono::steady_clock::time_point last_heard;
    /// Set once this client went over its rate.
    bool rate_limited = false;
    /// Set once we decided to drop this client.
    bool dropping = false;
  };
};

using ws_endpoint = websocketpp::server<ws_config>;
using ws_connection_ptr = ws_endpoint::connection_ptr;

/// Where and how the server listens, and its limits.
struct ws_server_config {
  std::string host = "localhost";
  uint16_t port = 8765;
  /// Larger frames are refused with close code 1009.
  size_t max_message_bytes = 16 * 1024;
  /// Comma-separated Origins (`https://chat.example.com`) that may open a
  /// WebSocket; empty accepts any. A request without an Origin header does
  /// not come from a browser page and is accepted either way.
  std::string allowed_origins;
  /// A client whose unsent frames pass this is disconnected.
  size_t max_backlog_bytes = 1024 * 1024;
  /// Frames read per second and client (0: no limit), and the burst allowed.
  double max_frames_per_second = 100;
  double frame_burst = 200;
  /// More connections are refused at the handshake with 503 (0: no limit).
  size_t max_clients = 0;
  /// Idle clients are pinged this often and dropped without a pong.
  std::chrono::nanoseconds ping_interval = std::chrono::seconds{30};
  std::chrono::nanoseconds pong_timeout = std::chrono::seconds{10};
  /// A TCP connection must finish its WebSocket handshake within this.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{5};
};

/// The bridge: accepts WebSocket connections, spawns a session actor for
/// each and turns frames into messages to it; answers plain HTTP requests
/// on the same port through `http`. Knows no chat rule, only the limits of
/// a connection. Counts into `stats`. Every member function runs on the
/// Asio thread.
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

  /// Queues a text frame for a client. Thread-safe: actors call it. Lines
  /// queued together leave together, on one turn of the Asio loop.
  void deliver(std::weak_ptr<ws_endpoint::connection_type> con,
               chat::shared_text text);

  /// Queues a text frame for every client of `group` but `except`; each
  /// link in it must be a ws_link of this server. Thread-safe.
  void deliver(chat::link_group group, const chat::client_link* except,
               chat::shared_text text);

private:
  bool on_validate(websocketpp::connection_hdl hdl);
  void on_open(websocketpp::connection_hdl hdl);
  void on_close(websocketpp::connection_hdl hdl);
  void on_message(websocketpp::connection_hdl hdl, ws_endpoint::message_ptr);
  void on_http(websocketpp::connection_hdl hdl);
  void on_fail(websocketpp::connection_hdl hdl);
  void pass_on(const ws_connection_ptr& con, ws_endpoint::message_ptr msg);
  void release_held(const ws_connection_ptr& con);
  void wait_for_token(const ws_connection_ptr& con);
  void ping_idle_clients();
  void drop(const ws_connection_ptr& con, const std::string& why);
  void say_goodbye(const ws_connection_ptr& con);
  struct delivery;
  void queue(delivery d);
  void send_delivered();
  size_t send_group_run(size_t first, size_t& sent);
  bool excepted(const chat::client_link* link, size_t first, size_t last) const;
  bool admit(const ws_connection_ptr& con, size_t bytes);
  bool send(const ws_connection_ptr& con, std::string_view frames);
  void flush_all();

  ws_server_config config_;
  std::vector<std::string> allowed_origins_;
  session_factory make_session_;
  bridge_stats& stats_;
  const http_service& http_;
  asio::io_context io_;
  ws_endpoint endpoint_;
  asio::steady_timer ping_timer_;
  std::set<websocketpp::connection_hdl, std::owner_less<>> open_;
  std::string goodbye_;
  bool stopping_ = false;
  /// A line for one client (`con`), or for a group but one (`group`).
  struct delivery {
    std::weak_ptr<ws_endpoint::connection_type> con;
    chat::link_group group;
    const chat::client_link* except = nullptr;
    chat::shared_text text;
  };
  handoff<delivery> delivered_;
  /// The batch being sent, and the frames of one line or of one run of
  /// broadcasts back to back, with where each frame starts (and the run
  /// ends); kept to reuse their capacity.
  std::vector<delivery> sending_;
  std::string framed_;
  std::vector<size_t> frame_starts_;
  /// Connections with bytes in their outbox and no write in flight; one
  /// posted flush_all() writes them all.
  std::vector<ws_connection_ptr> unflushed_;
};

} // namespace net

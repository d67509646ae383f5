#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <system_error>

#include "actors/interfaces.hpp"
#include "net/address_counts.hpp"
#include "net/bridge_stats.hpp"
#include "net/fan_out.hpp"
#include "net/handshake_admission.hpp"
#include "net/http_service.hpp"
#include "net/read_pacer.hpp"
#include "net/tcp_socket.hpp"
#include "net/tls_context.hpp"
#include "net/ws_config.hpp"

namespace net {

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
  /// More connections from one IP address are refused at the handshake
  /// with 429 (0: no limit).
  size_t max_clients_per_address = 0;
  /// Idle clients are pinged this often; one without a pong within
  /// pong_timeout is dropped unless its host's TCP still acknowledges (a
  /// busy program). The kernel ends a host silent for both together.
  std::chrono::nanoseconds ping_interval = std::chrono::seconds{30};
  std::chrono::nanoseconds pong_timeout = std::chrono::seconds{10};
  /// SO_SNDBUF of each client's socket (the kernel doubles it and holds it
  /// fixed): what the kernel may queue for a client on top of
  /// max_backlog_bytes. 0 leaves the kernel's autotuning (up to 4 MiB).
  size_t send_buffer_bytes = 64 * 1024;
  /// A TCP connection must finish its WebSocket handshake within this.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{5};
  /// SO_REUSEPORT on the listening socket: several nodes on one host share
  /// one port, the kernel spreads new connections over them.
  bool reuse_port = false;
};

/// The bridge: accepts WebSocket connections, spawns a session actor for
/// each and turns frames into messages to it; answers plain HTTP requests
/// on the same port through `http`. Wires websocketpp to the parts that
/// do the work (handshake_admission, read_pacer, fan_out) and runs each
/// connection's life: open, keepalive, close, shutdown. Knows no chat
/// rule. Counts into `stats`. Every member function runs on the Asio
/// thread.
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

  /// Before listen(): every connection speaks TLS with `tls`'s current
  /// context (wss://, https://). `tls` must outlive the server and have a
  /// context; reloading it changes what new connections get.
  void use_tls(const tls_context& tls);

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

  /// The outgoing path, for the lobby's broadcaster. Thread-safe.
  fan_out& outgoing() {
    return out_;
  }

private:
  ws_connection_ptr connection(websocketpp::connection_hdl hdl);
  void on_socket_accepted(websocketpp::connection_hdl hdl);
  bool on_validate(websocketpp::connection_hdl hdl);
  void on_open(websocketpp::connection_hdl hdl);
  void on_close(websocketpp::connection_hdl hdl);
  void on_message(websocketpp::connection_hdl hdl, ws_message_ptr msg);
  void on_http(websocketpp::connection_hdl hdl);
  void on_fail(websocketpp::connection_hdl hdl);
  void pass_on(const ws_connection_ptr& con, ws_message_ptr msg);
  void ping_idle_clients();
  void on_pong_timeout(const ws_connection_ptr& con);
  void say_goodbye(const ws_connection_ptr& con);
  void forget_address(ws_connection& con);

  ws_server_config config_;
  session_factory make_session_;
  bridge_stats& stats_;
  const http_service& http_;
  handshake_admission admission_;
  /// Admitted clients per address, while --max-clients-per-address is on.
  address_counts addresses_;
  tcp_options tcp_options_;
  asio::io_context io_;
  ws_endpoint endpoint_;
  fan_out out_;
  read_pacer pacer_;
  asio::steady_timer ping_timer_;
  std::set<websocketpp::connection_hdl, std::owner_less<>> open_;
  std::string goodbye_;
  bool stopping_ = false;
};

} // namespace net

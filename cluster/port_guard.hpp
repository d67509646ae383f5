#pragma once

// The cluster port: a relay in front of CAF's BASP port that lets only
// BASP from a connecting node through (cluster/basp_filter) and says on
// stderr what it refused. CAF 0.17.6 as Debian builds it logs nothing,
// allocates whatever payload a header announces, and keeps a connection
// that sent less than a header open forever.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "cluster/basp_filter.hpp"

namespace cluster {

struct port_guard_config {
  /// The cluster port, as other nodes connect to it.
  asio::ip::tcp::endpoint listen;
  /// Where CAF's BASP listens (a port of its own on the same host).
  asio::ip::tcp::endpoint basp;
  /// A connection must bring a whole client handshake within this.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{3};
  uint32_t max_payload = max_basp_payload;
  /// One line per refused connection (stderr in the node); at most a few
  /// per `log_window`, the rest counted in one line at its end.
  std::function<void(const std::string&)> log;
  std::chrono::nanoseconds log_window = std::chrono::seconds{1};
};

/// Owns a thread of its own, so that cluster traffic never waits for the
/// clients' Asio thread nor the other way round. Not a security boundary:
/// it keeps junk and accidents away from BASP, while anyone on this host
/// can still reach BASP's own port (hence loopback only).
class port_guard {
public:
  explicit port_guard(port_guard_config config);
  ~port_guard();

  port_guard(const port_guard&) = delete;
  port_guard& operator=(const port_guard&) = delete;

  /// Binds and listens (SO_REUSEADDR, as a restarted node must rebind)
  /// and starts relaying on the guard's thread.
  std::error_code open();

  /// The port bound, after open().
  uint16_t port() const;

  /// Closes every connection and joins the thread.
  void stop();

  class relay;

private:
  void accept();
  void say(const std::string& line);

  port_guard_config config_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_pause_;
  std::thread thread_;
  /// Refusals said in the current log window, and those left unsaid
  /// (counted in one line when the window is over).
  std::chrono::steady_clock::time_point second_;
  unsigned said_ = 0;
  unsigned unsaid_ = 0;
  asio::steady_timer unsaid_timer_;
  /// Open connections by the node id of their client handshake.
  std::map<std::string, unsigned> clients_;
};

} // namespace cluster

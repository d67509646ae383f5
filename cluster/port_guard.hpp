#pragma once

// The cluster port: a relay in front of CAF's BASP port that lets only
// BASP from a connecting node through (cluster/basp_filter), with TLS
// only from a node whose certificate our CA signed, and says on stderr
// what it refused. CAF 0.17.6 as Debian builds it logs nothing,
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
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include "cluster/basp_filter.hpp"

namespace cluster {

struct port_guard_config {
  /// The cluster port, as other nodes connect to it.
  asio::ip::tcp::endpoint listen;
  /// Where CAF's BASP listens (a port of its own on the same host).
  asio::ip::tcp::endpoint basp;
  /// A connection must bring a whole client handshake (after its TLS
  /// handshake, with TLS) within this.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{3};
  /// With a context (cluster/tls_context), the port speaks TLS only and
  /// the guard is its TLS server: it checks the other node's certificate
  /// and hands BASP the plain bytes, filtered as without TLS. A relay
  /// that only passed the ciphertext on (to CAF's OpenSSL module) could
  /// not filter BASP nor tell when a handshake is done, and CAF's TLS
  /// server never gives up on a handshake that stalls.
  std::shared_ptr<asio::ssl::context> tls;
  /// Connections still in their (TLS or BASP) handshake, at most: more
  /// are refused at once, so that hosts without a certificate cannot make
  /// the node hold more than this many sockets and buffers.
  unsigned max_handshaking = 64;
  /// Of those, at most this many from one address: one host cannot take
  /// every place and keep the other nodes from linking. Room for the
  /// nodes of one host linking at once.
  unsigned max_handshaking_per_address = 8;
  uint32_t max_payload = max_basp_payload;
  /// One line per refused connection (stderr in the node); at most a few
  /// per `log_window`, the rest counted in one line at its end.
  std::function<void(const std::string&)> log;
  std::chrono::nanoseconds log_window = std::chrono::seconds{1};
};

/// Owns a thread of its own, so that cluster traffic never waits for the
/// clients' Asio thread nor the other way round. Without TLS not a
/// security boundary: it keeps junk and accidents away from BASP, while
/// anyone on this host can still reach BASP's own port (hence loopback
/// only). With TLS, only nodes with a certificate from the CA get through
/// (BASP's own port stays on loopback).
class port_guard {
public:
  explicit port_guard(port_guard_config config);
  ~port_guard();

  port_guard(const port_guard&) = delete;
  port_guard& operator=(const port_guard&) = delete;

  /// Where BASP listens, when it was not known at construction; before
  /// open().
  void set_basp(asio::ip::tcp::endpoint basp) {
    config_.basp = basp;
  }

  /// Binds and listens (SO_REUSEADDR, as a restarted node must rebind)
  /// and starts relaying on the guard's thread.
  std::error_code open();

  /// The port bound, after open().
  uint16_t port() const;

  /// The guard's event loop (cluster/link_dialer runs there too).
  asio::io_context& io() {
    return io_;
  }

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
  /// Connections that have not brought their handshake yet, in all and
  /// by address.
  unsigned handshaking_ = 0;
  std::map<asio::ip::address, unsigned> handshaking_from_;
  std::string no_room_for(const asio::ip::address& from) const;
  void handshake_started(const asio::ip::address& from);
  void handshake_ended(const asio::ip::address& from);
};

} // namespace cluster

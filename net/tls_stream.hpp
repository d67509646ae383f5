#pragma once

#include <optional>
#include <system_error>
#include <utility>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

namespace net {

using tcp = asio::ip::tcp;

/// A TCP socket, or a TLS stream over it: forwards Asio's stream calls to
/// whichever this connection has (one type, so that the code above it
/// does not fork into a TLS copy). Also answers the socket calls code
/// outside the transport makes on websocketpp's get_socket() (options and
/// shutdown), on the TCP socket.
class tls_stream {
public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket;

  /// Plain TCP until start_tls(), or TLS with `ctx` from the start.
  tls_stream(asio::io_context& io, asio::ssl::context* ctx = nullptr)
    : tcp_(io) {
    if (ctx)
      start_tls(*ctx);
  }

  /// From now on, TLS with `ctx` (which must outlive this stream), before
  /// the first byte is read or written.
  void start_tls(asio::ssl::context& ctx) {
    tls_.emplace(tcp_, ctx);
  }

  executor_type get_executor() {
    return tcp_.get_executor();
  }

  tcp::socket& lowest_layer() {
    return tcp_;
  }

  /// Null for plain TCP.
  asio::ssl::stream<tcp::socket&>* tls() {
    return tls_ ? &*tls_ : nullptr;
  }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& bufs, Handler&& handler) {
    if (tls_)
      tls_->async_read_some(bufs, std::forward<Handler>(handler));
    else
      tcp_.async_read_some(bufs, std::forward<Handler>(handler));
  }

  // TLS counts its write in flight: close_notify must not cut into it.
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& bufs, Handler&& handler) {
    if (!tls_) {
      tcp_.async_write_some(bufs, std::forward<Handler>(handler));
      return;
    }
    writing_ = true;
    tls_->async_write_some(
      bufs, [this, h = std::forward<Handler>(handler)](
              const std::error_code& ec, size_t n) mutable {
        writing_ = false;
        h(ec, n);
      });
  }

  /// Whether a TLS write is in flight.
  bool writing() const {
    return writing_;
  }

  template <class Option>
  void set_option(const Option& option, std::error_code& ec) {
    tcp_.set_option(option, ec);
  }

  template <class Option>
  void get_option(Option& option, std::error_code& ec) const {
    tcp_.get_option(option, ec);
  }

  void shutdown(tcp::socket::shutdown_type what, std::error_code& ec) {
    tcp_.shutdown(what, ec);
  }

private:
  tcp::socket tcp_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  bool writing_ = false;
};

} // namespace net

#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <websocketpp/transport/asio/endpoint.hpp>

#include "net/outbox.hpp"
#include "net/wire_corrections.hpp"
#include "net/tcp_socket.hpp"

namespace net {

/// A websocketpp write: its buffers (valid until its handler ran) and its
/// handler.
struct transport_write {
  std::vector<websocketpp::transport::buffer> bufs;
  websocketpp::transport::write_handler handler;
};

/// websocketpp's Asio connection with an outbox (net/outbox.hpp) in front
/// of its socket: the bridge appends frames and flushes once per turn, and
/// websocketpp's own writes go through the outbox's order.
///
/// Why: for every message websocketpp queues, it posts a dispatch and
/// starts a write of its own, two allocations and two handlers per client
/// and turn; with a thousand recipients a turn, that bookkeeping, not the
/// system call, is where a relay's CPU went. Here a recipient costs a copy
/// into its outbox and, per turn, one write.
template <class config>
class outbox_connection
  : public websocketpp::transport::asio::connection<config>,
    public outbox<outbox_connection<config>, transport_write> {
  using base = websocketpp::transport::asio::connection<config>;
  using box = outbox<outbox_connection<config>, transport_write>;
  friend box;

public:
  using base::base;
  using write_handler = websocketpp::transport::write_handler;
  using buffer = websocketpp::transport::buffer;

  /// websocketpp's writes. They hide the base class's, which websocketpp
  /// calls by qualified name through this class. The first is only ever
  /// an HTTP answer, the second frames; both pass net/wire_corrections.
  void async_write(const char* buf, size_t len, write_handler handler) {
    if (auto fixed = corrected_http_answer({buf, len})) {
      buf = fixed->data();
      len = fixed->size();
    }
    box::write({{{buf, len}}, std::move(handler)});
  }

  void async_write(const std::vector<buffer>& bufs, write_handler handler) {
    transport_write w{bufs, std::move(handler)};
    correct_close_frames(w.bufs);
    box::write(std::move(w));
  }

  /// websocketpp ends the connection. A write still under way then means
  /// the client has not taken our bytes (a slow reader whose close timed
  /// out; a clean close has written everything): reset first, so neither
  /// the kernel nor a TLS shutdown waits for it.
  void async_shutdown(websocketpp::transport::shutdown_handler handler) {
    if (!box::idle())
      abort_connection(this->get_raw_socket()); // gone already: as good
    base::async_shutdown(std::move(handler));
  }

private:
  void write_bytes(const std::string& bytes) {
    ::asio::async_write(
      this->get_socket(), ::asio::buffer(bytes),
      [this, self = this->get_shared()](const std::error_code& ec, size_t) {
        this->bytes_written(ec);
      });
  }

  void write_theirs(transport_write w) {
    // The base's write holds a reference to this connection until the
    // handler has run.
    base::async_write(w.bufs, [this, handler = std::move(w.handler)](
                                const std::error_code& ec) mutable {
      this->theirs_written(ec, handler);
    });
  }

  void refuse_theirs(transport_write w) {
    w.handler(websocketpp::transport::error::make_error_code(
      websocketpp::transport::error::pass_through));
  }

  void shut_down() {
    std::error_code ignored; // a socket already gone is what we want
    this->get_socket().shutdown(::asio::socket_base::shutdown_both, ignored);
  }
};

/// websocketpp's Asio transport, making outbox connections.
template <class config>
struct outbox_endpoint : websocketpp::transport::asio::endpoint<config> {
  using transport_con_type = outbox_connection<config>;
  using transport_con_ptr = typename transport_con_type::ptr;
};

} // namespace net

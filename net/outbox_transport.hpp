#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <websocketpp/error.hpp>
#include <websocketpp/transport/asio/endpoint.hpp>

#include "net/outbox.hpp"
#include "net/tcp_socket.hpp"
#include "net/wire_corrections.hpp"

namespace net {

/// A websocketpp write: its buffers (valid until its handler ran) and its
/// handler.
struct transport_write {
  std::vector<websocketpp::transport::buffer> bufs;
  websocketpp::transport::write_handler handler;
};

/// The handlers the server sets on websocketpp's endpoint for every
/// connection: one copy per endpoint that its connections share (a copy of
/// two std::function in each connection is 64 bytes a client).
struct tcp_init_handlers {
  /// The socket is accepted, TLS not yet spoken.
  websocketpp::transport::asio::tcp_init_handler pre_init;
  /// TLS, if any, is up; the HTTP request is not read yet.
  websocketpp::transport::asio::tcp_init_handler post_init;
};

template <class config>
class outbox_endpoint;

/// websocketpp's transport connection for the Asio endpoint, in the place
/// of its own transport::asio::connection: the same contract (what
/// websocketpp::connection and the endpoint call) over the socket policy's
/// connection, with an outbox (net/outbox.hpp) in front of the socket: the
/// bridge appends frames and flushes once per turn, and websocketpp's own
/// writes go through the outbox's order.
///
/// Why not websocketpp's: it carries two inline 1 KiB handler buffers (one
/// for reads, one for writes) in every connection, idle or not, with no way
/// to size them; with tens of thousands of idle clients they were a quarter
/// of the server's memory per client. Asio's default handler allocation
/// (a per-thread recycling cache) does the same job without them. Also
/// gone: the proxy and strand support a single-threaded server never uses.
///
/// Why the outbox: for every message websocketpp queues, it posts a
/// dispatch and starts a write of its own, two allocations and two
/// handlers per client and turn; with a thousand recipients a turn, that
/// bookkeeping, not the system call, is where a relay's CPU went. Here a
/// recipient costs a copy into its outbox and, per turn, one write.
template <class config>
class outbox_connection
  : public config::socket_type::socket_con_type,
    public outbox<outbox_connection<config>, transport_write> {
  using box = outbox<outbox_connection<config>, transport_write>;
  friend box;
  friend class outbox_endpoint<config>;
  static_assert(!config::enable_multithreading,
                "one thread runs Asio: no strands here");

public:
  using type = outbox_connection<config>;
  using ptr = std::shared_ptr<type>;
  using socket_con_type = typename config::socket_type::socket_con_type;
  using alog_type = typename config::alog_type;
  using elog_type = typename config::elog_type;
  using timer_ptr = std::shared_ptr<asio::steady_timer>;
  using buffer = websocketpp::transport::buffer;
  using init_handler = websocketpp::transport::init_handler;
  using read_handler = websocketpp::transport::read_handler;
  using write_handler = websocketpp::transport::write_handler;
  using timer_handler = websocketpp::transport::timer_handler;
  using shutdown_handler = websocketpp::transport::shutdown_handler;

  /// The loggers are not kept: the transport has nothing to say that the
  /// error codes it hands on do not (and ws_config compiles logs out).
  outbox_connection(bool is_server, const std::shared_ptr<alog_type>&,
                    const std::shared_ptr<elog_type>&)
    : is_server_(is_server) {
  }

  ptr get_shared() {
    return std::static_pointer_cast<type>(socket_con_type::get_shared());
  }

  /// For websocketpp's log lines.
  std::string get_remote_endpoint() const {
    std::error_code ec;
    auto text = socket_con_type::get_remote_endpoint(ec);
    return ec ? "Unknown" : text;
  }

  /// The socket's own error behind the last failed read or shutdown
  /// (websocketpp's get_ec() has it in its own terms), e.g. ETIMEDOUT.
  std::error_code get_transport_ec() const {
    return socket_ec_;
  }

  /// Calls `callback` after `ms` milliseconds: with no error, or with
  /// transport::error::operation_aborted if the timer was cancelled first.
  /// The wait holds the timer and this connection.
  timer_ptr set_timer(long ms, timer_handler callback) {
    namespace error = websocketpp::transport::error;
    auto timer
      = std::make_shared<asio::steady_timer>(*io_, std::chrono::milliseconds(ms));
    timer->async_wait([self = get_shared(), timer, callback = std::move(callback)](
                        const std::error_code& ec) {
      if (!ec)
        callback({});
      else if (ec == asio::error::operation_aborted)
        callback(error::make_error_code(error::operation_aborted));
      else
        callback(error::make_error_code(error::pass_through));
    });
    return timer;
  }

  /// websocketpp's writes. The first is only ever an HTTP answer, the
  /// second frames; both pass net/wire_corrections.
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

  /// websocketpp ends the connection: the socket policy's shutdown (TLS
  /// close_notify, TCP shutdown), given timeout_socket_shutdown before the
  /// socket is cancelled under it. A write still under way then means the
  /// client has not taken our bytes (a slow reader whose close timed out;
  /// a clean close has written everything): reset first, so neither the
  /// kernel nor a TLS shutdown waits for it.
  void async_shutdown(shutdown_handler callback) {
    namespace error = websocketpp::transport::error;
    if (!box::idle())
      abort_connection(this->get_raw_socket()); // gone already: as good
    auto timer = set_timer(
      config::timeout_socket_shutdown,
      [this, callback](const std::error_code& ec) {
        if (ec == error::operation_aborted) // the shutdown was done first
          return;
        socket_con_type::cancel_socket();
        callback(ec ? ec : error::make_error_code(error::timeout));
      });
    socket_con_type::async_shutdown(
      [this, self = get_shared(), timer, callback](const std::error_code& ec) {
        if (ec == asio::error::operation_aborted || expired(*timer))
          return; // the timeout answered
        timer->cancel();
        std::error_code result;
        // not_connected: the socket was gone already, which is the aim.
        if (ec && ec != asio::error::not_connected) {
          socket_ec_ = ec;
          result = socket_con_type::translate_ec(ec);
        }
        callback(result);
      });
  }

protected:
  void set_handle(websocketpp::connection_hdl hdl) {
    hdl_ = hdl;
    socket_con_type::set_handle(hdl);
  }

  /// Readies the connection for websocketpp's first read and write, in
  /// websocketpp's order: the socket policy's pre_init (TLS set up, no
  /// byte read), the endpoint's pre-init handler (socket options), the
  /// socket's post_init (the TLS handshake) within timeout_socket_post_init,
  /// the endpoint's post-init handler, then `callback`. Like websocketpp's,
  /// pre_init has no timeout: a socket policy's pre_init does not wait.
  void init(init_handler callback) {
    socket_con_type::pre_init(
      [this, self = get_shared(), callback](const std::error_code& ec) {
        if (handlers_->pre_init)
          handlers_->pre_init(hdl_);
        // websocketpp goes on to post_init after a failure too, and so
        // calls back twice; once is the contract.
        if (ec)
          callback(ec);
        else
          post_init(callback);
      });
  }

  /// Reads at least `least` bytes into `buf` (room for `len`). End of
  /// stream is transport::error::eof; the socket policy names other errors.
  void async_read_at_least(size_t least, char* buf, size_t len,
                           read_handler handler) {
    asio::async_read(
      this->get_socket(), asio::buffer(buf, len), asio::transfer_at_least(least),
      [this, self = get_shared(), handler = std::move(handler)](
        const std::error_code& ec, size_t n) {
        namespace error = websocketpp::transport::error;
        std::error_code result;
        if (ec == asio::error::eof) {
          result = error::make_error_code(error::eof);
        } else if (ec) {
          socket_ec_ = ec;
          result = socket_con_type::translate_ec(ec);
        }
        if (handler) // websocketpp may have let go of the read
          handler(result, n);
      });
  }

  /// Both run `handler` on a later turn of the loop, never inside the
  /// caller.
  std::error_code dispatch(websocketpp::transport::dispatch_handler handler) {
    asio::post(*io_, std::move(handler));
    return {};
  }

  std::error_code interrupt(websocketpp::transport::interrupt_handler handler) {
    asio::post(*io_, std::move(handler));
    return {};
  }

private:
  // For the endpoint (outbox_endpoint::init).
  std::error_code init_asio(asio::io_context* io,
                            std::shared_ptr<const tcp_init_handlers> handlers) {
    io_ = io;
    handlers_ = std::move(handlers);
    return socket_con_type::init_asio(io, {}, is_server_);
  }

  void post_init(init_handler callback) {
    namespace error = websocketpp::transport::error;
    timer_ptr timer;
    if (config::timeout_socket_post_init > 0)
      timer = set_timer(
        config::timeout_socket_post_init,
        [this, callback](const std::error_code& ec) {
          if (ec == error::operation_aborted) // post_init was done first
            return;
          socket_con_type::cancel_socket();
          // The socket policy may know better, e.g. a TLS handshake timeout.
          auto why = socket_con_type::get_ec();
          callback(ec    ? ec
                   : why ? why
                         : error::make_error_code(error::timeout));
        });
    socket_con_type::post_init(
      [this, self = get_shared(), timer, callback](const std::error_code& ec) {
        if (ec == error::operation_aborted || (timer && expired(*timer)))
          return; // the timeout answered
        if (timer)
          timer->cancel();
        if (handlers_->post_init)
          handlers_->post_init(hdl_);
        callback(ec);
      });
  }

  // Whether the timer's handler ran or will run as expired: then it, not
  // the operation it guards, calls back (cancelling it now would not stop
  // it).
  static bool expired(const asio::steady_timer& timer) {
    return timer.expiry() <= asio::steady_timer::clock_type::now();
  }

  void write_bytes(const std::string& bytes) {
    asio::async_write(
      this->get_socket(), asio::buffer(bytes),
      [this, self = get_shared()](const std::error_code& ec, size_t) {
        this->bytes_written(ec);
      });
  }

  // Asio copies the buffer list into its write; the bytes stay
  // websocketpp's until the handler ran. Any failure is pass_through to
  // websocketpp, as from its own transport.
  void write_theirs(transport_write w) {
    std::vector<asio::const_buffer> bufs;
    bufs.reserve(w.bufs.size());
    for (auto& b : w.bufs)
      bufs.emplace_back(b.buf, b.len);
    asio::async_write(
      this->get_socket(), bufs,
      [this, self = get_shared(), handler = std::move(w.handler)](
        const std::error_code& ec, size_t) mutable {
        namespace error = websocketpp::transport::error;
        this->theirs_written(
          ec ? error::make_error_code(error::pass_through) : std::error_code{},
          handler);
      });
  }

  void refuse_theirs(transport_write w) {
    w.handler(websocketpp::transport::error::make_error_code(
      websocketpp::transport::error::pass_through));
  }

  void shut_down() {
    std::error_code ignored; // a socket already gone is what we want
    this->get_socket().shutdown(asio::socket_base::shutdown_both, ignored);
  }

  asio::io_context* io_ = nullptr;
  std::shared_ptr<const tcp_init_handlers> handlers_;
  websocketpp::connection_hdl hdl_;
  std::error_code socket_ec_;
  bool is_server_;
};

/// websocketpp's Asio endpoint (listening, accepting, the io_context),
/// making outbox connections. Its `init` and `async_accept` take only its
/// own connection type, so they are here again for ours; with them the
/// per-connection handlers they hand on, and the acceptor, which the base
/// keeps private and shows only to the pre-bind handler.
template <class config>
class outbox_endpoint : public websocketpp::transport::asio::endpoint<config> {
  using base = websocketpp::transport::asio::endpoint<config>;
  using socket_con_type = typename base::socket_con_type;
  using acceptor_ptr = typename base::acceptor_ptr;

public:
  using transport_con_type = outbox_connection<config>;
  using transport_con_ptr = typename transport_con_type::ptr;
  using tcp_init_handler = websocketpp::transport::asio::tcp_init_handler;
  using tcp_pre_bind_handler = typename base::tcp_pre_bind_handler;
  using accept_handler = websocketpp::transport::accept_handler;

  outbox_endpoint() {
    set_tcp_pre_bind_handler({});
  }
  // The pre-bind handler holds `this`.
  outbox_endpoint(const outbox_endpoint&) = delete;
  outbox_endpoint& operator=(const outbox_endpoint&) = delete;

  /// After accept, before TLS: where the server sets socket options.
  void set_tcp_pre_init_handler(tcp_init_handler h) {
    auto next = std::make_shared<tcp_init_handlers>(*handlers_);
    next->pre_init = std::move(h);
    handlers_ = std::move(next); // connections made already keep theirs
  }

  void set_tcp_init_handler(tcp_init_handler h) { // websocketpp's old name
    set_tcp_pre_init_handler(std::move(h));
  }

  void set_tcp_post_init_handler(tcp_init_handler h) {
    auto next = std::make_shared<tcp_init_handlers>(*handlers_);
    next->post_init = std::move(h);
    handlers_ = std::move(next);
  }

  /// `h` runs on the listening socket before bind, as in the base.
  void set_tcp_pre_bind_handler(tcp_pre_bind_handler h) {
    base::set_tcp_pre_bind_handler(
      [this, h = std::move(h)](const acceptor_ptr& acceptor) {
        acceptor_ = acceptor;
        return h ? h(acceptor) : std::error_code{};
      });
  }

  /// Accepts the next client into `con`'s socket.
  void async_accept(transport_con_ptr con, accept_handler callback,
                    std::error_code& ec) {
    namespace error = websocketpp::error;
    if (!this->is_listening() || !acceptor_) {
      ec = error::make_error_code(error::async_accept_not_listening);
      return;
    }
    acceptor_->async_accept(
      con->get_raw_socket(),
      [callback = std::move(callback)](const std::error_code& aec) {
        if (aec == std::errc::operation_canceled) // stop_listening
          callback(error::make_error_code(error::operation_canceled));
        else
          callback(aec ? socket_con_type::translate_ec(aec) : aec);
      });
  }

  void async_accept(transport_con_ptr con, accept_handler callback) {
    std::error_code ec;
    async_accept(std::move(con), std::move(callback), ec);
    if (ec)
      throw websocketpp::exception(ec);
  }

protected:
  /// A new connection (websocketpp's endpoint calls this once for each).
  std::error_code init(transport_con_ptr con) {
    base::socket_type::init(con);
    return con->init_asio(&this->get_io_service(), handlers_);
  }

private:
  std::shared_ptr<const tcp_init_handlers> handlers_
    = std::make_shared<tcp_init_handlers>();
  acceptor_ptr acceptor_;
};

} // namespace net

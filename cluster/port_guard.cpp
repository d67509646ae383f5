#include "cluster/port_guard.hpp"

#include <array>
#include <cerrno>
#include <vector>

#include <sys/socket.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

namespace cluster {

namespace {

// Refusal lines per log window before the rest are only counted.
constexpr unsigned lines_per_window = 5;

std::string to_text(const asio::ip::tcp::endpoint& ep) {
  auto address = ep.address().to_string();
  if (ep.address().is_v6())
    address = '[' + address + ']';
  return address + ':' + std::to_string(ep.port());
}

} // namespace

/// One connection on the cluster port: the node outside, BASP inside. The
/// way in is filtered; the way out is BASP's own bytes. Each way reads
/// only once its last write is done, so the relay holds one buffer each.
/// With TLS the guard is the TLS server of the node outside and filters
/// what it decrypted.
class port_guard::relay : public std::enable_shared_from_this<relay> {
public:
  using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

  relay(port_guard& guard, asio::ip::tcp::socket outside,
        const asio::ip::tcp::endpoint& from)
    : guard_(guard),
      outside_(std::move(outside)),
      inside_(guard.io_),
      deadline_(guard.io_),
      filter_(guard.config_.max_payload) {
    from_ = from.address();
    peer_ = to_text(from);
    if (guard_.config_.tls)
      tls_ = std::make_unique<tls_stream>(std::move(outside_),
                                          *guard_.config_.tls);
  }

  void start() {
    std::error_code ec;
    raw().set_option(asio::ip::tcp::no_delay{true}, ec);
    if (ec)
      guard_.say("cannot set TCP_NODELAY for " + peer_ + ": " + ec.message());
    guard_.handshake_started(from_);
    deadline_.expires_after(guard_.config_.handshake_timeout);
    deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec || self->filter_.handshake_passed())
        return;
      self->refuse(self->tls_ && !self->tls_done_
                     ? "no TLS handshake within the cluster timeout"
                     : "no BASP handshake within the cluster timeout");
    });
    if (!tls_) {
      read_outside();
      return;
    }
    // A TLS connection starts with a handshake record (22): anything else
    // is plain text, most likely a node without TLS options.
    raw().async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](std::error_code ec) {
                       if (self->closed_)
                         return;
                       if (ec) {
                         self->close();
                         return;
                       }
                       unsigned char first = 0;
                       auto n = ::recv(self->raw().native_handle(), &first, 1,
                                       MSG_PEEK | MSG_DONTWAIT);
                       if (n <= 0) {
                         self->close();
                         return;
                       }
                       if (first != 22) {
                         self->refuse("plain text, not TLS: this cluster "
                                      "port takes TLS only (a node without "
                                      "--cluster-cert?)");
                         return;
                       }
                       self->tls_handshake();
                     });
  }

private:
  asio::ip::tcp::socket& raw() {
    return tls_ ? tls_->next_layer() : outside_;
  }

  // Runs `f` with the stream to the node outside: TLS or plain.
  template <class F>
  void with_outside(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(outside_);
  }

  void tls_handshake() {
    tls_->async_handshake(
      asio::ssl::stream_base::server,
      [self = shared_from_this()](std::error_code ec) {
        if (self->closed_)
          return;
        if (ec) {
          // Without a certificate, with one from another CA, or one our
          // CA did not sign: OpenSSL says which.
          self->refuse("TLS handshake failed: " + ec.message());
          return;
        }
        self->tls_done_ = true;
        self->read_outside();
      });
  }

  void read_outside() {
    with_outside([this](auto& stream) {
      stream.async_read_some(
        asio::buffer(from_outside_),
        [self = shared_from_this()](std::error_code ec, size_t n) {
          self->on_outside(ec, n);
        });
    });
  }

  void on_outside(std::error_code ec, size_t n) {
    if (ec) {
      outside_closed();
      return;
    }
    passing_.clear();
    if (!filter_.feed(from_outside_.data(), n, passing_)) {
      refuse(filter_.refusal());
      return;
    }
    if (passing_.empty()) {
      read_outside();
      return;
    }
    if (!connected_) {
      // BASP sees the connection only once a handshake came through.
      deadline_.cancel();
      connected_ = true;
      guard_.handshake_ended(from_);
      ++guard_.clients_[filter_.client_node()];
      inside_.async_connect(guard_.config_.basp,
                            [self = shared_from_this()](std::error_code ec) {
                              if (self->closed_)
                                return;
                              if (ec) {
                                self->guard_.say("cannot reach BASP for "
                                                 + self->peer_ + ": "
                                                 + ec.message());
                                self->close();
                                return;
                              }
                              self->inside_.set_option(
                                asio::ip::tcp::no_delay{true}, ec);
                              if (ec)
                                self->guard_.say(
                                  "cannot set TCP_NODELAY toward BASP for "
                                  + self->peer_ + ": " + ec.message());
                              self->write_inside();
                              self->read_inside();
                            });
      return;
    }
    write_inside();
  }

  void write_inside() {
    asio::async_write(inside_, asio::buffer(passing_),
                      [self = shared_from_this()](std::error_code ec, size_t) {
                        if (ec)
                          self->close();
                        else
                          self->read_outside();
                      });
  }

  void read_inside() {
    inside_.async_read_some(
      asio::buffer(from_inside_),
      [self = shared_from_this()](std::error_code ec, size_t n) {
        if (ec) {
          self->close();
          return;
        }
        auto had_handshake = self->watch_.server_handshake_sent();
        self->watch_.feed(self->from_inside_.data(), n);
        if (!had_handshake && self->watch_.server_handshake_sent())
          self->gone_before_handshake_ = self->peer_closed();
        if (self->outside_gone_) {
          self->judge_close();
          if (!self->closed_)
            self->read_inside();
          return;
        }
        self->with_outside([&](auto& stream) {
          asio::async_write(stream, asio::buffer(self->from_inside_, n),
                            [self](std::error_code ec, size_t) {
                              if (ec)
                                self->outside_closed();
                              else
                                self->read_inside();
                            });
        });
      });
  }

  // The node outside closed (or its socket failed). Right after BASP's
  // server handshake and nothing more from it, that may be a CAF program
  // with another application identifier (see foreign_app_closed): BASP
  // stays connected a moment to tell it from a redundant connection.
  void outside_closed() {
    if (closed_ || outside_gone_)
      return;
    outside_gone_ = true;
    if (!connected_ || filter_.messages() != 1 || filter_.partial()
        || !watch_.server_handshake_sent()) {
      close();
      return;
    }
    judge_close();
    if (closed_)
      return;
    deadline_.expires_after(linger);
    deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec)
        self->close();
    });
  }

  // Whether the node outside closed already (its FIN or RST is here),
  // without taking a byte: one that timed out while we were frozen, say,
  // never saw our server handshake.
  bool peer_closed() {
    char byte;
    auto n = ::recv(raw().native_handle(), &byte, 1,
                    MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
                      && errno != EINTR);
  }

  void judge_close() {
    if (gone_before_handshake_ || !foreign_app_closed(filter_, watch_))
      return;
    // Another connection from the same node is open: that node (ours,
    // reconnecting) chose that one and closes this as redundant.
    if (guard_.clients_[filter_.client_node()] > 1)
      return;
    // Not certain: one of our nodes whose link to us crossed one we made to
    // it at the same moment (after a freeze, say) closes just so.
    guard_.say("refused a CAF program with another application identifier "
               "from " + peer_ + " (or a node that linked to us another way)");
    close();
  }

  // How long BASP may take to answer a handshake it already has.
  static constexpr std::chrono::milliseconds linger{500};

  void refuse(const std::string& why) {
    guard_.say("refused " + peer_ + " on the cluster port: " + why);
    close();
  }

  void close() {
    if (connected_ && !closed_) {
      auto i = guard_.clients_.find(filter_.client_node());
      if (i != guard_.clients_.end() && --i->second == 0)
        guard_.clients_.erase(i);
    }
    if (!connected_ && !closed_)
      guard_.handshake_ended(from_);
    closed_ = true;
    std::error_code ignored;
    deadline_.cancel();
    // No TLS close_notify: the node outside learns of the close from TCP.
    raw().close(ignored);
    inside_.close(ignored);
  }

  port_guard& guard_;
  /// The node outside: this socket, or (with TLS) tls_'s.
  asio::ip::tcp::socket outside_;
  std::unique_ptr<tls_stream> tls_;
  bool tls_done_ = false;
  asio::ip::tcp::socket inside_;
  asio::steady_timer deadline_;
  basp_filter filter_;
  basp_watch watch_;
  std::string peer_;
  asio::ip::address from_;
  bool connected_ = false;
  bool outside_gone_ = false;
  /// The node outside had closed before BASP's server handshake went out.
  bool gone_before_handshake_ = false;
  bool closed_ = false;
  std::array<char, 64 * 1024> from_outside_;
  std::array<char, 64 * 1024> from_inside_;
  std::vector<char> passing_;
};

port_guard::port_guard(port_guard_config config)
  : config_(std::move(config)),
    acceptor_(io_),
    accept_pause_(io_),
    unsaid_timer_(io_) {
  // nop
}

port_guard::~port_guard() {
  stop();
}

std::error_code port_guard::open() {
  std::error_code ec;
  acceptor_.open(config_.listen.protocol(), ec);
  if (!ec)
    acceptor_.set_option(asio::socket_base::reuse_address{true}, ec);
  if (!ec)
    acceptor_.bind(config_.listen, ec);
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  accept();
  thread_ = std::thread{[this] { io_.run(); }};
  return {};
}

uint16_t port_guard::port() const {
  std::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void port_guard::stop() {
  if (!thread_.joinable())
    return;
  io_.stop();
  thread_.join();
}

void port_guard::handshake_started(const asio::ip::address& from) {
  ++handshaking_;
  ++handshaking_from_[from];
}

void port_guard::handshake_ended(const asio::ip::address& from) {
  --handshaking_;
  auto i = handshaking_from_.find(from);
  if (i != handshaking_from_.end() && --i->second == 0)
    handshaking_from_.erase(i);
}

// Why a connection from `from` finds no room among those in their
// handshake, or "" when it does.
std::string port_guard::no_room_for(const asio::ip::address& from) const {
  if (handshaking_ >= config_.max_handshaking)
    return std::to_string(handshaking_)
           + " connections are in their handshake already";
  auto i = handshaking_from_.find(from);
  if (i != handshaking_from_.end()
      && i->second >= config_.max_handshaking_per_address)
    return std::to_string(i->second) + " connections from " + from.to_string()
           + " are in their handshake already";
  return "";
}

void port_guard::accept() {
  acceptor_.async_accept([this](std::error_code ec,
                                asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted)
      return;
    if (!ec) {
      std::error_code gone; // the peer left before we looked: nothing to do
      auto from = socket.remote_endpoint(gone);
      if (gone)
        socket.close(gone);
      else if (auto full = no_room_for(from.address()); !full.empty()) {
        // Said before the close, so that whoever sees the close can read it.
        say("refused " + to_text(from) + " on the cluster port: " + full);
        socket.close(gone);
      } else {
        std::make_shared<relay>(*this, std::move(socket), from)->start();
      }
      accept();
      return;
    }
    // Out of file descriptors, say: try again in a while, not in a loop.
    say("cannot accept on the cluster port: " + ec.message());
    accept_pause_.expires_after(std::chrono::milliseconds{100});
    accept_pause_.async_wait([this](std::error_code ec) {
      if (!ec)
        accept();
    });
  });
}

void port_guard::say(const std::string& line) {
  if (!config_.log)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - second_ >= config_.log_window) {
    second_ = now;
    said_ = 0;
  }
  if (said_ >= lines_per_window) {
    // The count is said when the window is over, also if nothing follows.
    if (unsaid_++ == 0) {
      unsaid_timer_.expires_at(second_ + config_.log_window);
      unsaid_timer_.async_wait([this](std::error_code ec) {
        if (ec || unsaid_ == 0)
          return;
        config_.log("refused " + std::to_string(unsaid_)
                    + " more connections on the cluster port");
        unsaid_ = 0;
      });
    }
    return;
  }
  ++said_;
  config_.log(line);
}

} // namespace cluster

#include "cluster/link_dialer.hpp"

#include <array>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

namespace cluster {

/// One attempt and, once linked, one link: the other node outside (TLS),
/// CAF's plain BASP on a loopback port inside. Each way reads only once its
/// last write is done, so it holds one buffer each way.
class link_dialer::relay : public std::enable_shared_from_this<relay> {
public:
  relay(link_dialer& owner, uint64_t id, dialed done)
    : owner_(owner.shared_from_this()),
      id_(id),
      done_(std::move(done)),
      resolver_(owner.io_),
      outside_(owner.io_, *owner.tls_),
      acceptor_(owner.io_),
      inside_(owner.io_),
      deadline_(owner.io_) {
    ++owner.open_;
  }

  ~relay() {
    --owner_->open_;
  }

  void start(const std::string& host, uint16_t port) {
    deadline_.expires_after(owner_->timeout_);
    deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec)
        self->fail("no link within the cluster timeout");
    });
    resolver_.async_resolve(
      host, std::to_string(port),
      [self = shared_from_this()](std::error_code ec,
                                  asio::ip::tcp::resolver::results_type rs) {
        if (self->closed_)
          return;
        if (ec) {
          self->fail(ec.message());
          return;
        }
        asio::async_connect(self->outside_.next_layer(), rs,
                            [self](std::error_code ec, const auto&) {
                              self->on_connected(ec);
                            });
      });
  }

  void established() {
    established_ = true;
    deadline_.cancel();
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    std::error_code ignored;
    resolver_.cancel();
    deadline_.cancel();
    outside_.next_layer().close(ignored);
    acceptor_.close(ignored);
    inside_.close(ignored);
    owner_->relays_.erase(id_);
  }

private:
  void fail(const std::string& why) {
    if (done_)
      std::exchange(done_, nullptr)(id_, 0, why);
    if (!established_)
      close();
  }

  void on_connected(std::error_code ec) {
    if (closed_)
      return;
    if (ec) {
      fail(ec.message());
      return;
    }
    // Links carry small messages: without TCP_NODELAY each waits for the
    // last one's ACK. A socket that refuses it is not one to link over.
    outside_.next_layer().set_option(asio::ip::tcp::no_delay{true}, ec);
    if (ec) {
      fail("TCP_NODELAY: " + ec.message());
      return;
    }
    outside_.async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this()](std::error_code ec) {
        if (self->closed_)
          return;
        if (ec) {
          // It refused our certificate, or we its.
          self->fail("TLS handshake failed: " + ec.message());
          return;
        }
        self->hand_to_caf();
      });
  }

  void hand_to_caf() {
    std::error_code ec;
    // The port stays bound while the relay lives: CAF caches a link by its
    // address, and a port handed out again would find the old one.
    asio::ip::tcp::endpoint loopback{asio::ip::address_v4::loopback(), 0};
    acceptor_.open(loopback.protocol(), ec);
    if (!ec)
      acceptor_.bind(loopback, ec);
    if (!ec)
      acceptor_.listen(1, ec);
    if (ec) {
      fail("cannot open a loopback port for CAF: " + ec.message());
      return;
    }
    auto port = acceptor_.local_endpoint(ec).port();
    if (ec) {
      fail("cannot read the loopback port for CAF: " + ec.message());
      return;
    }
    acceptor_.async_accept(inside_, [self = shared_from_this()](
                                      std::error_code ec) {
      if (self->closed_)
        return;
      if (ec) {
        self->fail("CAF did not connect: " + ec.message());
        return;
      }
      // As outside; the link is already reported, so a refusal ends it
      // (peer_links then sees a lost link and says so).
      self->inside_.set_option(asio::ip::tcp::no_delay{true}, ec);
      if (ec) {
        self->close();
        return;
      }
      self->pump(self->outside_, self->inside_, self->to_inside_);
      self->pump(self->inside_, self->outside_, self->to_outside_);
    });
    std::exchange(done_, nullptr)(id_, port, "");
  }

  using buffer = std::array<char, 64 * 1024>;

  // Bytes from `from` to `to`, until either closes; then both close.
  template <class From, class To>
  void pump(From& from, To& to, buffer& buf) {
    from.async_read_some(
      asio::buffer(buf), [self = shared_from_this(), &from, &to,
                          &buf](std::error_code ec, size_t n) {
        if (ec || self->closed_) {
          self->close();
          return;
        }
        asio::async_write(to, asio::buffer(buf, n),
                          [self, &from, &to, &buf](std::error_code ec,
                                                   size_t) {
                            if (ec || self->closed_)
                              self->close();
                            else
                              self->pump(from, to, buf);
                          });
      });
  }

  std::shared_ptr<link_dialer> owner_;
  uint64_t id_;
  dialed done_;
  asio::ip::tcp::resolver resolver_;
  asio::ssl::stream<asio::ip::tcp::socket> outside_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket inside_;
  asio::steady_timer deadline_;
  bool established_ = false;
  bool closed_ = false;
  buffer to_inside_;
  buffer to_outside_;
};

link_dialer::link_dialer(asio::io_context& io,
                         std::chrono::nanoseconds timeout,
                         std::shared_ptr<asio::ssl::context> tls)
  : io_(io), timeout_(timeout), tls_(std::move(tls)) {
  // nop
}

link_dialer::~link_dialer() = default;

uint64_t link_dialer::dial(std::string host, uint16_t port, dialed done) {
  auto id = ++next_id_;
  asio::post(io_, [self = shared_from_this(), id, host = std::move(host),
                   port, done = std::move(done)]() mutable {
    auto r = std::make_shared<relay>(*self, id, std::move(done));
    self->relays_[id] = r;
    r->start(host, port);
  });
  return id;
}

void link_dialer::established(uint64_t id) {
  asio::post(io_, [self = shared_from_this(), id] {
    auto i = self->relays_.find(id);
    if (i != self->relays_.end())
      if (auto r = i->second.lock())
        r->established();
  });
}

void link_dialer::abandon(uint64_t id) {
  asio::post(io_, [self = shared_from_this(), id] {
    auto i = self->relays_.find(id);
    if (i != self->relays_.end())
      if (auto r = i->second.lock())
        r->close();
  });
}

} // namespace cluster

// The guard on the cluster port, on loopback, in front of a stand-in for
// BASP that echoes what reaches it.

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "cluster/port_guard.hpp"

using namespace std::chrono_literals;

namespace cluster_test {

using tcp = asio::ip::tcp;

std::string guard_header(unsigned char type, uint32_t payload) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>(payload >> (8 * (3 - i)));
  return h;
}

/// Accepts connections on loopback and echoes each, on a thread of its
/// own; counts what it accepted.
class echo_server {
public:
  echo_server() : acceptor_(io_, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~echo_server() {
    io_.stop();
    thread_.join();
  }

  tcp::endpoint endpoint() const {
    return acceptor_.local_endpoint();
  }

  std::atomic<int> accepted{0};

private:
  struct session : std::enable_shared_from_this<session> {
    explicit session(tcp::socket s) : socket(std::move(s)) {
    }
    void read() {
      socket.async_read_some(asio::buffer(buf),
                             [self = shared_from_this()](std::error_code ec,
                                                         size_t n) {
                               if (ec)
                                 return;
                               asio::async_write(
                                 self->socket, asio::buffer(self->buf, n),
                                 [self](std::error_code ec, size_t) {
                                   if (!ec)
                                     self->read();
                                 });
                             });
    }
    tcp::socket socket;
    std::array<char, 4096> buf;
  };

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec)
        return;
      ++accepted;
      std::make_shared<session>(std::move(s))->read();
      accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

struct guard_fixture {
  echo_server basp;
  std::mutex mtx;
  std::vector<std::string> lines;
  unsigned max_handshaking;
  unsigned max_per_address;
  cluster::port_guard guard{[this] {
    cluster::port_guard_config config;
    config.max_handshaking = max_handshaking;
    config.max_handshaking_per_address = max_per_address;
    config.listen = {asio::ip::make_address("127.0.0.1"), 0};
    config.basp = basp.endpoint();
    config.handshake_timeout = 300ms;
    config.log_window = 200ms;
    config.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.push_back(line);
    };
    return config;
  }()};
  asio::io_context io;

  explicit guard_fixture(unsigned max_handshaking = 64,
                         unsigned max_per_address = 64)
    : max_handshaking(max_handshaking), max_per_address(max_per_address) {
    REQUIRE(!guard.open());
  }

  /// A blocking client from `from` that gives up reading after 5 s.
  tcp::socket connect(const char* from = "127.0.0.1") {
    tcp::socket s{io};
    s.open(tcp::v4());
    s.bind({asio::ip::make_address(from), 0});
    s.connect({asio::ip::make_address("127.0.0.1"), guard.port()});
    timeval limit{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
               sizeof(limit));
    return s;
  }

  /// Whether the guard closed `s` (after whatever it sent).
  static bool closed(tcp::socket& s) {
    std::array<char, 256> buf;
    std::error_code ec;
    while (!ec)
      s.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  std::vector<std::string> said() {
    std::lock_guard<std::mutex> guard{mtx};
    return lines;
  }
};

} // namespace cluster_test

TEST_CASE("the cluster port relays BASP both ways", "[port-guard]") {
  cluster_test::guard_fixture fx;
  auto s = fx.connect();
  auto stream = cluster_test::guard_header(1, 5) + "hello"
                + cluster_test::guard_header(6, 0);
  asio::write(s, asio::buffer(stream));
  std::string echoed(stream.size(), '\0');
  asio::read(s, asio::buffer(echoed));
  CHECK(echoed == stream);
  CHECK(fx.basp.accepted == 1);
  CHECK(fx.said().empty());
}

TEST_CASE("the cluster port refuses and logs what is not BASP; BASP never "
          "sees it",
          "[port-guard]") {
  cluster_test::guard_fixture fx;
  auto http = fx.connect();
  asio::write(http, asio::buffer(std::string{"GET / HTTP/1.1\r\n\r\n"}));
  CHECK(cluster_test::guard_fixture::closed(http));
  auto silent = fx.connect();
  auto t0 = std::chrono::steady_clock::now();
  CHECK(cluster_test::guard_fixture::closed(silent));
  CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
  auto big = fx.connect();
  asio::write(big, asio::buffer(cluster_test::guard_header(1, 0)
                                + cluster_test::guard_header(1, 0xffffffff)));
  CHECK(cluster_test::guard_fixture::closed(big));
  auto lines = fx.said();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("refused 127.0.0.1:", 0) == 0);
  CHECK(lines[0].find("on the cluster port: an HTTP request")
        != std::string::npos);
  CHECK(lines[1].find(": no BASP handshake within the cluster timeout")
        != std::string::npos);
  CHECK(lines[2].find(": a BASP header announcing 4294967295 bytes")
        != std::string::npos);
  // None reached BASP: not even the last one's handshake, refused in the
  // same read as the header after it.
  CHECK(fx.basp.accepted == 0);
}

TEST_CASE("connections in their handshake are capped: one more is refused "
          "at once",
          "[port-guard]") {
  cluster_test::guard_fixture fx{2};
  auto first = fx.connect();
  auto second = fx.connect();
  auto t0 = std::chrono::steady_clock::now();
  auto third = fx.connect();
  CHECK(cluster_test::guard_fixture::closed(third));
  // At once, not after the handshake timeout (300 ms).
  CHECK(std::chrono::steady_clock::now() - t0 < 250ms);
  auto lines = fx.said();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(": 2 connections are in their handshake already")
        != std::string::npos);
  // Once one of them is through, there is room again.
  auto handshake = cluster_test::guard_header(1, 5) + "hello";
  std::string echoed(handshake.size(), '\0');
  asio::write(first, asio::buffer(handshake));
  asio::read(first, asio::buffer(echoed));
  auto fourth = fx.connect();
  asio::write(fourth, asio::buffer(handshake));
  asio::read(fourth, asio::buffer(echoed));
  CHECK(echoed == handshake);
  CHECK(fx.basp.accepted == 2);
  CHECK(fx.said().size() == 1);
}

TEST_CASE("one address cannot take every place for connections in their "
          "handshake",
          "[port-guard]") {
  cluster_test::guard_fixture fx{64, 2};
  auto first = fx.connect("127.0.0.2");
  auto second = fx.connect("127.0.0.2");
  auto third = fx.connect("127.0.0.2");
  CHECK(cluster_test::guard_fixture::closed(third));
  auto lines = fx.said();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(": 2 connections from 127.0.0.2 are in their "
                      "handshake already")
        != std::string::npos);
  // Another address links meanwhile.
  auto handshake = cluster_test::guard_header(1, 5) + "hello";
  std::string echoed(handshake.size(), '\0');
  auto other = fx.connect("127.0.0.3");
  asio::write(other, asio::buffer(handshake));
  asio::read(other, asio::buffer(echoed));
  CHECK(echoed == handshake);
  // Once one of the first two is through, its address has room again.
  asio::write(first, asio::buffer(handshake));
  asio::read(first, asio::buffer(echoed));
  auto fourth = fx.connect("127.0.0.2");
  asio::write(fourth, asio::buffer(handshake));
  asio::read(fourth, asio::buffer(echoed));
  CHECK(echoed == handshake);
  CHECK(fx.said().size() == 1);
}

TEST_CASE("a flood of refusals is said in a few lines, then counted",
          "[port-guard]") {
  cluster_test::guard_fixture fx;
  for (int i = 0; i < 12; ++i) {
    auto s = fx.connect();
    asio::write(s, asio::buffer(std::string{"\xff\xff", 2}));
    CHECK(cluster_test::guard_fixture::closed(s));
  }
  // The count comes at the end of the window, with nothing after it.
  auto counted = [&] {
    auto lines = fx.said();
    return !lines.empty()
           && lines.back().find(" more connections on the cluster port")
                != std::string::npos;
  };
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       !counted() && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(5ms);
  auto lines = fx.said();
  REQUIRE(lines.size() >= 2);
  CHECK(lines.size() < 12);
  CHECK(lines.back().rfind("refused ", 0) == 0);
  CHECK(lines.back().find(" more connections on the cluster port")
        != std::string::npos);
}

namespace cluster_test {

/// A stand-in for CAF 0.17.6's BASP: sends its server handshake on accept
/// and, as to a node new to it, a direct message when `new_node`; then
/// reads until the guard closes.
class scripted_basp {
public:
  explicit scripted_basp(bool new_node)
    : new_node_(new_node),
      acceptor_(io_, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~scripted_basp() {
    io_.stop();
    thread_.join();
  }

  tcp::endpoint endpoint() const {
    return acceptor_.local_endpoint();
  }

private:
  struct session : std::enable_shared_from_this<session> {
    explicit session(tcp::socket s) : socket(std::move(s)) {
    }
    void read() {
      socket.async_read_some(asio::buffer(buf),
                             [self = shared_from_this()](std::error_code ec,
                                                         size_t) {
                               if (!ec)
                                 self->read();
                             });
    }
    tcp::socket socket;
    std::string out;
    std::array<char, 4096> buf;
  };

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec)
        return;
      auto ses = std::make_shared<session>(std::move(s));
      ses->out = guard_header(0, 9) + "ours!apps";
      if (new_node_)
        ses->out += guard_header(2, 3) + "abc";
      asio::async_write(ses->socket, asio::buffer(ses->out),
                        [ses](std::error_code ec, size_t) {
                          if (!ec)
                            ses->read();
                        });
      accept();
    });
  }

  bool new_node_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::vector<std::string> close_after_server_handshake(bool new_node) {
  scripted_basp basp{new_node};
  std::mutex mtx;
  std::vector<std::string> lines;
  cluster::port_guard_config config;
  config.listen = {asio::ip::make_address("127.0.0.1"), 0};
  config.basp = basp.endpoint();
  config.log = [&](const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx};
    lines.push_back(line);
  };
  cluster::port_guard guard{config};
  REQUIRE(!guard.open());
  asio::io_context io;
  {
    tcp::socket s{io};
    s.connect({asio::ip::make_address("127.0.0.1"), guard.port()});
    asio::write(s, asio::buffer(guard_header(1, 5) + "their"));
    std::string server_handshake(32 + 9, '\0');
    asio::read(s, asio::buffer(server_handshake));
    CHECK(server_handshake[0] == 0);
  } // closes, as a CAF program with another app identifier does
  for (auto deadline = std::chrono::steady_clock::now() + 1s;
       std::chrono::steady_clock::now() < deadline;) {
    {
      std::lock_guard<std::mutex> lock{mtx};
      if (!lines.empty())
        break;
    }
    std::this_thread::sleep_for(10ms);
  }
  guard.stop();
  return lines;
}

} // namespace cluster_test

TEST_CASE("a CAF program that closes after the server handshake, new to "
          "BASP, is said as one with another application identifier",
          "[port-guard]") {
  auto lines = cluster_test::close_after_server_handshake(true);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("refused a CAF program with another application "
                       "identifier from 127.0.0.1:",
                       0)
        == 0);
}

TEST_CASE("a redundant connection closing after the server handshake is "
          "not said",
          "[port-guard]") {
  CHECK(cluster_test::close_after_server_handshake(false).empty());
}

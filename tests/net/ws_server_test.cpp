// The bridge on a real loopback socket: what it sets on the sockets it
// accepts. Both ends live in this process, so the test reads the option
// back from the bridge's own end of the connection.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "net/http_service.hpp"
#include "net/web_files.hpp"
#include "net/ws_server.hpp"

using namespace std::chrono_literals;

namespace {

// A bridge on 127.0.0.1 with a free port, its Asio loop on a thread of its
// own; its sessions are no actors (invalid handles), which it tolerates.
struct bridge_fixture {
  net::bridge_stats bridge;
  chat::chat_stats chat;
  net::http_service http{net::web_files(), net::node_metrics(bridge, chat),
                         bridge, net::http_service::clock::now()};
  net::ws_server server;
  std::thread loop;

  static net::ws_server_config on_loopback(net::ws_server_config config) {
    config.host = "127.0.0.1";
    config.port = 0;
    return config;
  }

  explicit bridge_fixture(net::ws_server_config config = {})
    : server(on_loopback(std::move(config)),
             [](chat::client_link_ptr) { return chat::session_actor{}; },
             bridge, http) {
    REQUIRE_FALSE(server.listen());
    loop = std::thread{[this] { server.run(); }};
  }

  ~bridge_fixture() {
    asio::post(server.io(), [this] { server.shutdown("bye"); });
    loop.join();
  }

  uint16_t port() {
    return server.local_endpoint().port();
  }
};

// Connects to `port` and completes a WebSocket handshake, within 5 s.
asio::ip::tcp::socket open_websocket(asio::io_context& io, uint16_t port) {
  asio::ip::tcp::socket socket{io};
  std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
  asio::streambuf answer;
  std::error_code failed;
  bool answered = false;
  socket.async_connect(
    {asio::ip::make_address("127.0.0.1"), port}, [&](std::error_code ec) {
      if (ec)
        return void(failed = ec);
      asio::async_write(
        socket, asio::buffer(request), [&](std::error_code ec, size_t) {
          if (ec)
            return void(failed = ec);
          asio::async_read_until(socket, answer, "\r\n\r\n",
                                 [&](std::error_code ec, size_t) {
                                   failed = ec;
                                   answered = !ec;
                                 });
        });
    });
  io.run_for(std::chrono::seconds{5});
  REQUIRE_FALSE(failed);
  REQUIRE(answered);
  std::string head{asio::buffers_begin(answer.data()),
                   asio::buffers_end(answer.data())};
  REQUIRE(head.rfind("HTTP/1.1 101", 0) == 0);
  return socket;
}

// The descriptor of this process's socket whose local address is `local`
// and whose peer is `peer`: the bridge's end of a loopback connection.
int find_socket(const asio::ip::tcp::endpoint& local,
                const asio::ip::tcp::endpoint& peer) {
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in self{}, other{};
    socklen_t len = sizeof(self);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) != 0
        || self.sin_family != AF_INET)
      continue;
    len = sizeof(other);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&other), &len) != 0)
      continue;
    if (ntohs(self.sin_port) == local.port()
        && ntohs(other.sin_port) == peer.port())
      return fd;
  }
  return -1;
}

} // namespace

TEST_CASE("the bridge sends small frames at once: TCP_NODELAY is on",
          "[bridge]") {
  bridge_fixture node;
  asio::io_context io;
  auto client = open_websocket(io, node.port());
  // The bridge's end: local port = the node's, peer = the client's port.
  int fd = find_socket(client.remote_endpoint(), client.local_endpoint());
  REQUIRE(fd >= 0);
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0);
  CHECK(nodelay != 0);
}

TEST_CASE("the bridge bounds a client's kernel queue and lets the kernel "
          "notice a vanished host",
          "[bridge]") {
  bridge_fixture node; // --send-buffer-bytes 64 KiB, keepalive 30 s + 10 s
  asio::io_context io;
  auto client = open_websocket(io, node.port());
  int fd = find_socket(client.remote_endpoint(), client.local_endpoint());
  REQUIRE(fd >= 0);
  auto option = [fd](int level, int name) {
    int value = 0;
    socklen_t len = sizeof(value);
    REQUIRE(getsockopt(fd, level, name, &value, &len) == 0);
    return value;
  };
  CHECK(option(SOL_SOCKET, SO_SNDBUF) == 2 * 64 * 1024); // Linux doubles it
  CHECK(option(SOL_SOCKET, SO_KEEPALIVE) != 0);
  CHECK(option(IPPROTO_TCP, TCP_KEEPIDLE) == 30);
  CHECK(option(IPPROTO_TCP, TCP_USER_TIMEOUT) == 40'000);
}

TEST_CASE("a pong timeout past the kernel's keepalive count still sets the "
          "kernel's user timeout",
          "[bridge]") {
  net::ws_server_config config;
  config.ping_interval = std::chrono::seconds{30};
  config.pong_timeout = std::chrono::seconds{200}; // TCP_KEEPCNT caps at 127
  bridge_fixture node{config};
  asio::io_context io;
  auto client = open_websocket(io, node.port());
  int fd = find_socket(client.remote_endpoint(), client.local_endpoint());
  REQUIRE(fd >= 0);
  int value = 0;
  socklen_t len = sizeof(value);
  REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &value, &len) == 0);
  CHECK(value == 230'000);
}

// The dialer of outbound TLS links, on loopback: every attempt answers
// once, within the timeout, also toward a port whose SYNs vanish.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include "cluster/link_dialer.hpp"

using namespace std::chrono_literals;

namespace dialer_test {

using tcp = asio::ip::tcp;

/// The dialer on an io thread of its own, and what its callbacks said.
struct dialer_fixture {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work{io.get_executor()};
  std::shared_ptr<cluster::link_dialer> dialer;
  std::thread thread;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::pair<uint16_t, std::string>> answers;

  explicit dialer_fixture(std::chrono::nanoseconds timeout) {
    auto tls
      = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    dialer = std::make_shared<cluster::link_dialer>(io, timeout, tls);
    thread = std::thread{[this] { io.run(); }};
  }

  ~dialer_fixture() {
    work.reset();
    io.stop();
    thread.join();
  }

  void dial(uint16_t port) {
    dialer->dial("127.0.0.1", port,
                 [this](uint64_t, uint16_t local, const std::string& why) {
                   std::lock_guard<std::mutex> guard{mtx};
                   answers.emplace_back(local, why);
                   cv.notify_all();
                 });
  }

  /// Waits up to `limit` for `n` answers.
  bool wait_answers(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return answers.size() >= n; });
  }
};

} // namespace dialer_test

TEST_CASE("a dial toward a closed port fails at once", "[link-dialer]") {
  uint16_t port;
  {
    asio::io_context io;
    dialer_test::tcp::acceptor probe{
      io, {asio::ip::make_address("127.0.0.1"), 0}};
    port = probe.local_endpoint().port();
  }
  dialer_test::dialer_fixture fx{2s};
  auto t0 = std::chrono::steady_clock::now();
  fx.dial(port);
  REQUIRE(fx.wait_answers(1, 1s));
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  CHECK(fx.answers[0].first == 0);
  CHECK(fx.answers[0].second.find("refused") != std::string::npos);
}

TEST_CASE("a dial toward a port whose SYNs vanish gives up within the "
          "timeout, and so does the next one",
          "[link-dialer]") {
  // A listener that never accepts, its queue full: Linux drops further
  // SYNs without a word, as a cut link does.
  asio::io_context io;
  dialer_test::tcp::acceptor full{io};
  full.open(dialer_test::tcp::v4());
  full.bind({asio::ip::make_address("127.0.0.1"), 0});
  full.listen(0);
  auto port = full.local_endpoint().port();
  std::vector<dialer_test::tcp::socket> fillers;
  for (int i = 0; i < 3; ++i) {
    fillers.emplace_back(io);
    // Asio's own connect would wait (it polls, non-blocking or not): an
    // asynchronous one on a loop that never runs sends its SYN at once.
    fillers.back().async_connect({asio::ip::make_address("127.0.0.1"), port},
                                 [](std::error_code) {});
  }
  // Whether a dial's SYN vanishes or gets through to a listener that never
  // accepts (no TLS answer then), the deadline ends it alike.
  dialer_test::dialer_fixture fx{300ms};
  auto t0 = std::chrono::steady_clock::now();
  fx.dial(port);
  fx.dial(port);
  REQUIRE(fx.wait_answers(2, 2s));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 250ms);
  CHECK(took < 1s);
  for (auto& [local, why] : fx.answers) {
    CHECK(local == 0);
    CHECK(why == "no link within the cluster timeout");
  }
  // Nothing is left open.
  for (int i = 0; i < 100 && fx.dialer->open_relays() != 0; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(fx.dialer->open_relays() == 0);
}

TEST_CASE("a dial toward a port without TLS fails in the handshake",
          "[link-dialer]") {
  // Accepts and answers the ClientHello with plain text.
  asio::io_context io;
  dialer_test::tcp::acceptor plain{io,
                                   {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread server{[&] {
    std::error_code ec;
    auto s = plain.accept(ec);
    if (ec)
      return;
    std::array<char, 512> buf;
    s.read_some(asio::buffer(buf), ec);
    std::string reply = "HTTP/1.1 400 Bad Request\r\n\r\n";
    s.write_some(asio::buffer(reply), ec);
  }};
  dialer_test::dialer_fixture fx{2s};
  fx.dial(plain.local_endpoint().port());
  auto answered = fx.wait_answers(1, 3s);
  server.join();
  REQUIRE(answered);
  CHECK(fx.answers[0].first == 0);
  CHECK(fx.answers[0].second.rfind("TLS handshake failed: ", 0) == 0);
}

#include "net/tcp_socket.hpp"

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace net {

namespace {

template <int Name>
using tcp_int = asio::detail::socket_option::integer<IPPROTO_TCP, Name>;

// Whole seconds, rounded up, from 1 to `most` (what Linux accepts).
int whole_seconds(std::chrono::milliseconds dt, long long most) {
  auto s = (dt.count() + 999) / 1000;
  return static_cast<int>(std::clamp<long long>(s, 1, most));
}

// Linux's bounds: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPCNT.
constexpr long long max_keep_idle = 32767;
constexpr long long max_keep_count = 127;

} // namespace

std::optional<std::string> set_client_options(asio::ip::tcp::socket& socket,
                                              const tcp_options& options) {
  std::error_code ec;
  auto failed = [&](const char* what) {
    return std::optional<std::string>{std::string{what} + ": " + ec.message()};
  };
  // Chat lines are small: send each at once instead of waiting for the
  // ACK of the last (Nagle), which a client's delayed ACK makes 40 ms.
  socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  if (ec)
    return failed("TCP_NODELAY");
  if (options.send_buffer_bytes > 0) {
    auto bytes
      = static_cast<int>(std::min<size_t>(options.send_buffer_bytes, 1 << 30));
    socket.set_option(asio::socket_base::send_buffer_size{bytes}, ec);
    if (ec)
      return failed("SO_SNDBUF");
  }
  // The kernel notices a vanished host by itself: probes after `idle`
  // without a packet from it, a reset once `idle` + `grace` passed without
  // an answer to them or to our data.
  socket.set_option(asio::socket_base::keep_alive{true}, ec);
  if (ec)
    return failed("SO_KEEPALIVE");
  socket.set_option(
    tcp_int<TCP_KEEPIDLE>{whole_seconds(options.idle, max_keep_idle)}, ec);
  if (ec)
    return failed("TCP_KEEPIDLE");
  // Then a probe a second; TCP_USER_TIMEOUT, not the count, decides.
  socket.set_option(tcp_int<TCP_KEEPINTVL>{1}, ec);
  if (ec)
    return failed("TCP_KEEPINTVL");
  socket.set_option(
    tcp_int<TCP_KEEPCNT>{whole_seconds(options.grace, max_keep_count)}, ec);
  if (ec)
    return failed("TCP_KEEPCNT");
  auto user_timeout = std::clamp<long long>(
    (options.idle + options.grace).count(), 1, 0x7fffffff);
  socket.set_option(tcp_int<TCP_USER_TIMEOUT>{static_cast<int>(user_timeout)},
                    ec);
  if (ec)
    return failed("TCP_USER_TIMEOUT");
  return std::nullopt;
}

std::error_code abort_connection(asio::ip::tcp::socket& socket) {
  std::error_code ec;
  socket.set_option(asio::socket_base::linger{true, 0}, ec);
  if (ec)
    return ec;
  socket.close(ec);
  return ec;
}

std::optional<tcp_facts> read_tcp_facts(asio::ip::tcp::socket& socket,
                                        std::error_code& ec) {
  tcp_info info{};
  socklen_t size = sizeof(info);
  if (::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size)
      != 0) {
    ec = std::error_code{errno, std::system_category()};
    return std::nullopt;
  }
  ec.clear();
  tcp_facts facts;
  facts.unacked = info.tcpi_unacked;
  facts.retransmits = info.tcpi_retransmits;
  facts.probes = info.tcpi_probes;
  facts.since_last_ack = std::chrono::milliseconds{info.tcpi_last_ack_recv};
  return facts;
}

} // namespace net

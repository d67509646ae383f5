#pragma once

// Outbound links with TLS: the dialer is their TLS client. It connects
// asynchronously, within a deadline, does the TLS handshake (our
// certificate; the other node's must verify against the CA), and hands
// CAF's plain middleman a loopback port that relays to that connection.
// Not CAF's OpenSSL module, for two reasons found in 0.17.6:
// - its connect() blocks its middleman's thread: toward a host whose
//   packets vanish (a cut link, a host down) for the kernel's SYN retries,
//   about two minutes, and every connect asked for meanwhile waits;
// - its sessions leave OpenSSL's per-thread error queue uncleared when
//   CAF's logging is compiled out (Debian's build): after one TLS
//   connection fails (a node killed, a certificate refused), the next SSL
//   call on another, healthy connection of the same thread reads the stale
//   error and closes that one too. Measured: killing node 3 of three
//   dropped the healthy link between nodes 1 and 2 600 ms later.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>

namespace cluster {

class link_dialer : public std::enable_shared_from_this<link_dialer> {
public:
  /// Called on the io thread, once per attempt: the attempt's id and the
  /// loopback port to give CAF's connect, or 0 and why not.
  using dialed = std::function<void(uint64_t id, uint16_t port,
                                    const std::string& error)>;

  /// `timeout` bounds an attempt from dial() until established(): the TCP
  /// connect, CAF's connect to the loopback port and both handshakes.
  link_dialer(asio::io_context& io, std::chrono::nanoseconds timeout,
              std::shared_ptr<asio::ssl::context> tls);
  ~link_dialer();

  link_dialer(const link_dialer&) = delete;
  link_dialer& operator=(const link_dialer&) = delete;

  /// Connects to host:port (any thread); returns the attempt's id.
  uint64_t dial(std::string host, uint16_t port, dialed done);

  /// CAF linked through attempt `id` (any thread): its relay stays until
  /// either side closes.
  void established(uint64_t id);

  /// Attempt `id` failed or timed out on CAF's side (any thread): closes
  /// its relay, which ends CAF's handshake there too.
  void abandon(uint64_t id);

  /// Relays open now (attempts and links), for tests.
  size_t open_relays() const {
    return open_.load();
  }

  class relay;

private:
  asio::io_context& io_;
  std::chrono::nanoseconds timeout_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::atomic<uint64_t> next_id_{0};
  std::atomic<size_t> open_{0};
  /// Only on the io thread.
  std::map<uint64_t, std::weak_ptr<relay>> relays_;
};

} // namespace cluster

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include <asio/ip/address.hpp>

namespace net {

/// How many admitted WebSocket clients each IP address has, for
/// --max-clients-per-address. Addresses compare as IPs: an IPv4-mapped IPv6
/// address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
/// IPv4 client) is that IPv4 address; the zone of a link-local IPv6
/// address is ignored. Knows addresses, no socket.
class address_counts {
public:
  /// An address as counted: 16 bytes, IPv4 in its mapped form.
  using key = std::array<uint8_t, 16>;

  /// `address` as it is counted and named: an IPv4-mapped address as IPv4.
  static asio::ip::address normalized(const asio::ip::address& address);

  /// The key `address` is counted under.
  static key key_of(const asio::ip::address& address);

  /// Clients counted for `k` now.
  size_t count(const key& k) const;

  /// Counts one more client for `k`.
  void add(const key& k);

  /// Counts one client less for `k`, which must have been added.
  void remove(const key& k);

  /// Addresses with at least one client.
  size_t addresses() const {
    return counts_.size();
  }

private:
  // Ordered, not hashed: the keys are chosen by clients (an IPv6 host has
  // a /64 to pick from), so no hash they could make collide.
  std::map<key, uint32_t> counts_;
};

} // namespace net

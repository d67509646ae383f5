#pragma once

// Where a node's cluster port is: `host:port`, `[v6]:port`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cluster {

/// One node's cluster port, as other nodes connect to it.
struct peer_address {
  /// An IP literal or a name, without brackets ("::1", not "[::1]").
  /// "localhost" is always spelled "127.0.0.1": the node binds that, and
  /// one spelling per node keeps one entry per node in the tables.
  std::string host;
  uint16_t port = 0;

  friend bool operator==(const peer_address& x, const peer_address& y) {
    return x.host == y.host && x.port == y.port;
  }
  friend bool operator!=(const peer_address& x, const peer_address& y) {
    return !(x == y);
  }
};

/// `host:port`, or `[host]:port` for an IPv6 literal: the form every node
/// sends and every table is keyed by.
std::string to_string(const peer_address& x);

/// A host as written in an option: brackets dropped, "localhost" (in any
/// case) as 127.0.0.1.
std::string normalize_host(std::string_view host);

/// Parses `host:port` or `[v6]:port` (port 1 to 65535); nullopt otherwise.
std::optional<peer_address> parse_peer_address(std::string_view text);

/// The outcome of parsing a comma-separated list.
struct peer_list {
  std::vector<peer_address> addresses;
  /// Empty on success, else what is wrong, for a line on stderr.
  std::string error;
};

/// Parses a comma-separated `--peers` list. White space around entries is
/// ignored, duplicates are dropped, an empty text is an empty list; an
/// empty entry or one that does not parse is an error.
peer_list parse_peer_list(std::string_view text);

/// True for 127.0.0.0/8, ::1 (any spelling), ::ffff:127.x.y.z and
/// "localhost": the hosts where an unencrypted link stays on this machine.
/// Other names are false: they are not resolved here.
bool is_loopback_host(std::string_view host);

} // namespace cluster

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_service.hpp"

namespace net {

/// The headers of a request that decide whether it may become a WebSocket
/// session; "" for a header that is absent.
struct upgrade_headers {
  std::string_view upgrade;
  std::string_view connection;
  std::string_view key;
  std::string_view version;
  std::string_view origin;
};

/// Decides which WebSocket upgrade requests become sessions: a complete
/// RFC 6455 handshake, from an allowed Origin, while there is room for one
/// more client and one more from its address. Knows headers and counts, no
/// socket.
class handshake_admission {
public:
  /// `allowed_origins`: comma-separated, empty for any. `max_clients` and
  /// `max_per_address`: 0 for no limit.
  handshake_admission(const std::string& allowed_origins, size_t max_clients,
                      size_t max_per_address = 0);

  /// The answer refusing an upgrade request with these headers while
  /// `open` clients are connected, `from_address` of them from `address`
  /// (the client's IP, as text, for the answer), or nothing: admitted.
  std::optional<http_response> refusal(const upgrade_headers& request,
                                       size_t open, size_t from_address = 0,
                                       std::string_view address = "") const;

  /// For a request that websocketpp takes for plain HTTP (its Upgrade or
  /// Connection header does not ask for a WebSocket): a 400 when it still
  /// carries part of a WebSocket handshake, or nothing: plain HTTP.
  static std::optional<http_response>
  half_upgrade(const upgrade_headers& request);

  /// 426 naming the versions the node speaks (RFC 6455 4.4), for any
  /// request with another Sec-WebSocket-Version or none.
  static http_response version_refusal();

  /// Whether the per-address limit is on: otherwise nobody need count.
  bool limits_addresses() const {
    return max_per_address_ != 0;
  }

private:
  std::vector<std::string> allowed_origins_;
  size_t max_clients_;
  size_t max_per_address_;
};

/// Whether `key` is a Sec-WebSocket-Key as RFC 6455 4.1 makes it: the
/// base64 of 16 bytes (24 characters, the last two `==`).
bool valid_websocket_key(std::string_view key);

/// Whether the comma-separated header value `list` has `token`,
/// case-insensitively (`keep-alive, Upgrade` has `upgrade`).
bool has_token(std::string_view list, std::string_view token);

} // namespace net

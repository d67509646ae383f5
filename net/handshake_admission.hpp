#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_service.hpp"

namespace net {

/// Decides which WebSocket upgrade requests become sessions: RFC 6455
/// only, from an allowed Origin, while there is room for one more client.
/// Knows headers and counts, no socket.
class handshake_admission {
public:
  /// `allowed_origins`: comma-separated, empty for any. `max_clients`: 0
  /// for no limit.
  handshake_admission(const std::string& allowed_origins, size_t max_clients);

  /// The answer refusing a request with these headers ("" when absent)
  /// while `open` clients are connected, or nothing: admitted.
  std::optional<http_response>
  refusal(std::string_view version, std::string_view origin, size_t open) const;

private:
  std::vector<std::string> allowed_origins_;
  size_t max_clients_;
};

} // namespace net

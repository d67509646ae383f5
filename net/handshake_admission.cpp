#include "net/handshake_admission.hpp"

#include "net/origins.hpp"

namespace net {

handshake_admission::handshake_admission(const std::string& allowed_origins,
                                         size_t max_clients)
  : allowed_origins_(parse_origins(allowed_origins)),
    max_clients_(max_clients) {
  // nop
}

std::optional<http_response>
handshake_admission::refusal(std::string_view version, std::string_view origin,
                             size_t open) const {
  // RFC 6455 and the drafts that frame as it does (7, 8) name their
  // version; websocketpp also takes the pre-RFC draft hixie-76, which does
  // not, frames differently, and whose key after the headers it misreads
  // when that key straddles two reads. PROTOCOL.md is RFC 6455.
  if (version.empty())
    return http_response{426, "", {{"Sec-WebSocket-Version", "13, 8, 7"}}};
  if (!origin_allowed(allowed_origins_, std::string{origin}))
    return http_response{403, "", {}};
  if (max_clients_ != 0 && open >= max_clients_)
    return http_response{503,
                         "chat-node is full: " + std::to_string(open)
                           + " clients connected; try again later\n",
                         {}};
  return std::nullopt;
}

} // namespace net

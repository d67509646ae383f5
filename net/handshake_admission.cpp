#include "net/handshake_admission.hpp"

#include <algorithm>
#include <cctype>

#include "net/origins.hpp"

namespace net {

namespace {

http_response text_answer(int status, std::string body,
                          http_response::header_list extra = {}) {
  extra.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return {status, std::move(body), std::move(extra)};
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

bool base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

http_response incomplete_upgrade() {
  return text_answer(400, "a WebSocket upgrade needs Upgrade: websocket and "
                          "Connection: Upgrade (RFC 6455 4.1)\n");
}

} // namespace

bool valid_websocket_key(std::string_view key) {
  // 16 bytes are 22 characters of base64 and two of padding.
  return key.size() == 24
         && std::all_of(key.begin(), key.begin() + 22, base64_char)
         && key.substr(22) == "==";
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = std::min(list.find(','), list.size());
    if (iequal(trim(list.substr(0, comma)), token))
      return true;
    list.remove_prefix(std::min(comma + 1, list.size()));
  }
  return false;
}

handshake_admission::handshake_admission(const std::string& allowed_origins,
                                         size_t max_clients,
                                         size_t max_per_address)
  : allowed_origins_(parse_origins(allowed_origins)),
    max_clients_(max_clients),
    max_per_address_(max_per_address) {
  // nop
}

http_response handshake_admission::version_refusal() {
  return text_answer(426,
                     "chat-node speaks WebSocket as RFC 6455 defines it: "
                     "send Sec-WebSocket-Version: 13\n",
                     {{"Sec-WebSocket-Version", "13, 8, 7"}});
}

std::optional<http_response>
handshake_admission::refusal(const upgrade_headers& request, size_t open,
                             size_t from_address,
                             std::string_view address) const {
  // websocketpp takes any header containing the words.
  if (!has_token(request.upgrade, "websocket")
      || !has_token(request.connection, "upgrade"))
    return incomplete_upgrade();
  // RFC 6455 and the drafts that frame as it does (7, 8) name their
  // version; websocketpp also takes the pre-RFC draft hixie-76, which does
  // not (or says 0), frames differently, and whose key after the headers
  // it misreads when that key straddles two reads. PROTOCOL.md is RFC 6455.
  auto v = request.version;
  if (v != "13" && v != "8" && v != "7")
    return version_refusal();
  // websocketpp only checks that there is a key; RFC 6455 4.2.1 wants 16
  // bytes of it.
  if (!valid_websocket_key(request.key))
    return text_answer(400, "Sec-WebSocket-Key must be the base64 of 16 bytes "
                            "(RFC 6455 4.1)\n");
  if (!origin_allowed(allowed_origins_, std::string{request.origin}))
    return text_answer(403, "this page's Origin may not open a WebSocket "
                            "here\n");
  if (max_clients_ != 0 && open >= max_clients_)
    return text_answer(503, "chat-node is full: " + std::to_string(open)
                              + " clients connected; try again later\n");
  if (max_per_address_ != 0 && from_address >= max_per_address_)
    return text_answer(429, "too many connections from " + std::string{address}
                              + ": " + std::to_string(from_address)
                              + " open, the most one address may have; "
                                "close one and try again\n");
  return std::nullopt;
}

std::optional<http_response>
handshake_admission::half_upgrade(const upgrade_headers& request) {
  if (has_token(request.upgrade, "websocket") || !request.key.empty()
      || !request.version.empty())
    return incomplete_upgrade();
  return std::nullopt;
}

} // namespace net

#include "cluster/peer_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace cluster {

namespace {

std::string_view trim(std::string_view text) {
  auto is_space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view x, std::string_view y) {
  return x.size() == y.size()
         && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a))
                     == std::tolower(static_cast<unsigned char>(b));
            });
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr;
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

} // namespace

std::string to_string(const peer_address& x) {
  auto port = std::to_string(x.port);
  if (x.host.find(':') != std::string::npos)
    return '[' + x.host + "]:" + port;
  return x.host + ':' + port;
}

std::string normalize_host(std::string_view host) {
  host = trim(host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost"))
    return "127.0.0.1";
  return std::string{host};
}

std::optional<peer_address> parse_peer_address(std::string_view text) {
  text = trim(text);
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size()
        || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    // Brackets are for IPv6 literals only.
    if (!is_ipv6_literal(std::string{host}))
      return std::nullopt;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An IPv6 literal needs brackets: `::1:9765` is ambiguous.
    if (host.find(':') != std::string_view::npos)
      return std::nullopt;
  }
  if (host.empty() || port.empty()
      || host.find_first_of(" \t,[]/") != std::string_view::npos)
    return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(),
                                   value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0
      || value > 65535)
    return std::nullopt;
  return peer_address{normalize_host(host), static_cast<uint16_t>(value)};
}

peer_list parse_peer_list(std::string_view text) {
  peer_list result;
  if (trim(text).empty())
    return result;
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto entry = text.substr(start, comma == std::string_view::npos
                                      ? std::string_view::npos
                                      : comma - start);
    auto parsed = parse_peer_address(entry);
    if (!parsed) {
      result.addresses.clear();
      result.error = trim(entry).empty()
                       ? "an empty entry"
                       : "'" + std::string{trim(entry)}
                           + "' is not host:port or [v6]:port";
      return result;
    }
    if (std::find(result.addresses.begin(), result.addresses.end(), *parsed)
        == result.addresses.end())
      result.addresses.push_back(std::move(*parsed));
    if (comma == std::string_view::npos)
      return result;
    start = comma + 1;
  }
}

bool is_loopback_host(std::string_view text) {
  auto host = normalize_host(text);
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6))
      return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

} // namespace cluster

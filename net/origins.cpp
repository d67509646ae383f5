#include "net/origins.hpp"

#include <algorithm>
#include <cctype>

namespace net {

namespace {

// Origins compare case-insensitively and without a trailing slash.
std::string normalize_origin(std::string origin) {
  auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!origin.empty() && blank(origin.back()))
    origin.pop_back();
  origin.erase(origin.begin(),
               std::find_if_not(origin.begin(), origin.end(), blank));
  if (!origin.empty() && origin.back() == '/')
    origin.pop_back();
  for (auto& c : origin)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return origin;
}

} // namespace

std::vector<std::string> parse_origins(const std::string& list) {
  std::vector<std::string> result;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = std::min(list.find(',', pos), list.size());
    auto origin = normalize_origin(list.substr(pos, comma - pos));
    if (!origin.empty())
      result.push_back(std::move(origin));
    pos = comma + 1;
  }
  return result;
}

bool origin_allowed(const std::vector<std::string>& allowed,
                    const std::string& origin) {
  if (allowed.empty() || origin.empty())
    return true;
  auto wanted = normalize_origin(origin);
  return std::find(allowed.begin(), allowed.end(), wanted) != allowed.end();
}

} // namespace net

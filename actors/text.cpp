#include "actors/text.hpp"

namespace chat {

namespace {

constexpr std::string_view white_space = " \t\n\r\f\v";

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

bool is_c0_or_del(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

// C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
bool is_c1(unsigned char lead, unsigned char next) {
  return lead == 0xC2 && next >= 0x80 && next <= 0x9F;
}

} // namespace

std::string_view trim(std::string_view str) {
  auto first = str.find_first_not_of(white_space);
  if (first == std::string_view::npos)
    return {};
  auto last = str.find_last_not_of(white_space);
  return str.substr(first, last - first + 1);
}

std::string make_terminal_safe(std::string_view str) {
  std::string result;
  result.reserve(str.size());
  for (size_t i = 0; i < str.size(); ++i) {
    auto c = static_cast<unsigned char>(str[i]);
    if (is_c0_or_del(c)) {
      result += replacement;
    } else if (i + 1 < str.size()
               && is_c1(c, static_cast<unsigned char>(str[i + 1]))) {
      result += replacement;
      ++i;
    } else {
      result += str[i];
    }
  }
  return result;
}

} // namespace chat

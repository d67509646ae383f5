#include "actors/command.hpp"

#include <limits>

#include "actors/text.hpp"

namespace chat {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
         || c == '\v';
}

bool starts_with(std::string_view str, std::string_view prefix) {
  return str.substr(0, prefix.size()) == prefix;
}

} // namespace

client_id parse_client_number(std::string_view arg) {
  arg = trim(arg);
  // Accept the display name too: `Client 2`.
  constexpr std::string_view name = "Client";
  if (starts_with(arg, name) && arg.size() > name.size()
      && is_space(arg[name.size()]))
    arg = trim(arg.substr(name.size()));
  if (arg.empty())
    return 0;
  client_id result = 0;
  constexpr auto max = std::numeric_limits<client_id>::max();
  for (char c : arg) {
    if (c < '0' || c > '9')
      return 0;
    auto digit = static_cast<client_id>(c - '0');
    if (result > (max - digit) / 10)
      return 0;
    result = result * 10 + digit;
  }
  return result;
}

command parse_command(std::string_view line) {
  auto text = trim(line);
  if (text.empty())
    return {command::blank, {}};
  if (text == "page")
    return {command::page, {}};
  if (text == "leave")
    return {command::leave, {}};
  if (text == "invite")
    return {command::invite_usage, {}};
  if (starts_with(text, "invite") && is_space(text[6])) {
    auto arg = trim(text.substr(6));
    return {command::invite, std::string{arg}, parse_client_number(arg)};
  }
  if (text.front() == '/') {
    auto word = text.substr(1);
    for (size_t i = 0; i < word.size(); ++i)
      if (is_space(word[i])) {
        word = word.substr(0, i);
        break;
      }
    if (word == "help")
      return {command::help, {}};
    if (word == "who")
      return {command::who, {}};
    return {command::unknown, std::string{word}};
  }
  return {command::say, {}};
}

} // namespace chat

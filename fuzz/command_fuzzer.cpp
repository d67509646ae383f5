// Fuzzes the command parser (actors/command.hpp) against the rules of
// PROTOCOL.md and the README, restated here independently:
// - a command is the whole line after trimming: `page`, `leave`, `invite`
//   (usage), `invite <arg>`, `/<word> …`; anything else not blank is chat;
// - surrounding white space never changes the result;
// - `invite`'s argument is the trimmed rest of the line, and its target is
//   what parse_client_number makes of that argument;
// - parse_client_number accepts a plain decimal or `Client <decimal>`,
//   1 .. 2^64-1, and nothing else; every number it returns round-trips
//   through `N`, `Client N` and `invite N`.
// The first 8 bytes, read as a number, also round-trip on their own, so the
// whole range of client numbers is tried.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "actors/command.hpp"
#include "actors/text.hpp"
#include "fuzz/fuzz_check.hpp"

using chat::command;
using chat::parse_client_number;
using chat::parse_command;
using chat::fuzz::is_space;
using chat::fuzz::require;

namespace {

bool same(const command& x, const command& y) {
  return x.kind == y.kind && x.arg == y.arg && x.target == y.target;
}

bool starts_with(std::string_view str, std::string_view prefix) {
  return str.substr(0, prefix.size()) == prefix;
}

// The number a trimmed invite argument names, by the README's rule: "a plain
// decimal (`2`, `02`) or `Client 2`"; 0 for anything else or past 2^64-1.
uint64_t named_number(std::string_view arg) {
  if (starts_with(arg, "Client") && arg.size() > 6 && is_space(arg[6])) {
    arg.remove_prefix(6);
    while (!arg.empty() && is_space(arg.front()))
      arg.remove_prefix(1);
  }
  if (arg.empty())
    return 0;
  for (char c : arg)
    if (c < '0' || c > '9')
      return 0;
  auto digits = arg.substr(std::min(arg.find_first_not_of('0'), arg.size()));
  constexpr std::string_view max = "18446744073709551615";
  if (digits.size() > max.size()
      || (digits.size() == max.size() && digits > max))
    return 0;
  uint64_t result = 0;
  for (char c : digits)
    result = result * 10 + static_cast<uint64_t>(c - '0');
  return result;
}

void check_number(std::string_view arg) {
  auto n = parse_client_number(arg);
  require(n == named_number(chat::trim(arg)),
          "parse_client_number disagrees with the README's rule");
  if (n == 0)
    return;
  auto text = std::to_string(n);
  require(parse_client_number(text) == n, "N does not round-trip");
  require(parse_client_number("Client " + text) == n,
          "Client N does not round-trip");
  auto cmd = parse_command("invite " + text);
  require(cmd.kind == command::invite && cmd.target == n && cmd.arg == text,
          "invite N does not round-trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  auto cmd = parse_command(line);
  auto text = chat::trim(line);

  // Which command the line is, by the protocol's words.
  auto first_word = text.empty() ? text : text.substr(1);
  for (size_t i = 0; i < first_word.size(); ++i)
    if (is_space(first_word[i])) {
      first_word = first_word.substr(0, i);
      break;
    }
  command::kind_t want;
  if (text.empty())
    want = command::blank;
  else if (text == "page")
    want = command::page;
  else if (text == "leave")
    want = command::leave;
  else if (text == "invite")
    want = command::invite_usage;
  else if (starts_with(text, "invite") && is_space(text[6]))
    want = command::invite;
  else if (text.front() == '/')
    want = first_word == "help"  ? command::help
           : first_word == "who" ? command::who
                                 : command::unknown;
  else
    want = command::say;
  require(cmd.kind == want, "wrong kind of command");

  switch (cmd.kind) {
    case command::invite:
      require(!cmd.arg.empty(), "invite without an argument");
      require(cmd.arg == chat::trim(text.substr(6)),
              "invite argument is not the trimmed rest of the line");
      require(cmd.target == parse_client_number(cmd.arg),
              "invite target differs from its argument's number");
      break;
    case command::unknown:
      require(cmd.arg == first_word, "unknown command word is not the word");
      require(cmd.target == 0, "unknown command with a target");
      break;
    default:
      require(cmd.arg.empty() && cmd.target == 0,
              "argument on a command that takes none");
  }

  // Surrounding white space changes nothing.
  require(same(parse_command(text), cmd), "trimmed line parses differently");
  require(same(parse_command(" \t" + std::string{line} + "\r\n"), cmd),
          "padded line parses differently");

  check_number(line);
  if (cmd.kind == command::invite)
    check_number(cmd.arg);
  if (size >= 8) {
    uint64_t n;
    std::memcpy(&n, data, sizeof(n));
    check_number(std::to_string(n));
    check_number("Client " + std::to_string(n));
  }
  return 0;
}

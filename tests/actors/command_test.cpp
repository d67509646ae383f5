#include "actors/command.hpp"

#include <catch2/catch.hpp>

using chat::command;
using chat::parse_command;

TEST_CASE("a plain line is a chat message", "[command]") {
  CHECK(parse_command("pizza later?").kind == command::say);
  CHECK(parse_command("page me later").kind == command::say);
  CHECK(parse_command("Page").kind == command::say);
}

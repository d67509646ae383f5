#include "actors/command.hpp"

#include <catch2/catch.hpp>

using chat::command;
using chat::parse_client_number;
using chat::parse_command;

TEST_CASE("a plain line is a chat message", "[command]") {
  for (auto line : {"pizza later?", "page me later", "Page", "PAGE",
                    "leave now", "invited", "who", "help"})
    CHECK(parse_command(line).kind == command::say);
}

TEST_CASE("a command is the whole trimmed line", "[command]") {
  CHECK(parse_command("page").kind == command::page);
  CHECK(parse_command("  page \t").kind == command::page);
  CHECK(parse_command("leave").kind == command::leave);
  CHECK(parse_command(" leave\n").kind == command::leave);
  CHECK(parse_command("invite").kind == command::invite_usage);
  CHECK(parse_command("invite  ").kind == command::invite_usage);
}

TEST_CASE("blank lines are recognised", "[command]") {
  CHECK(parse_command("").kind == command::blank);
  CHECK(parse_command(" \t\r\n").kind == command::blank);
}

TEST_CASE("invite carries its argument and the number it names", "[command]") {
  auto cmd = parse_command("invite   Client 12 ");
  CHECK(cmd.kind == command::invite);
  CHECK(cmd.arg == "Client 12");
  CHECK(cmd.target == 12);
  CHECK(parse_command("invite\t3").target == 3);
}

TEST_CASE("only a plain decimal or `Client N` names a client", "[command]") {
  CHECK(parse_client_number("2") == 2);
  CHECK(parse_client_number("Client 2") == 2);
  CHECK(parse_client_number("Client   2") == 2);
  CHECK(parse_client_number("007") == 7);
  CHECK(parse_client_number("000000000000000000000007") == 7);
  CHECK(parse_client_number("18446744073709551615") == 18446744073709551615u);
  for (auto arg : {"", "Client", "Client2", "client 2", "-2", "+2", "2.0",
                   "2 3", "0x2", "bob", "\xd9\xa2" /* Arabic-Indic two */,
                   "18446744073709551616", "99999999999999999999999"})
    CHECK(parse_client_number(arg) == 0);
}

TEST_CASE("slash commands are known by their first word", "[command]") {
  CHECK(parse_command("/help").kind == command::help);
  CHECK(parse_command(" /who ").kind == command::who);
  CHECK(parse_command("/who is here").kind == command::who);
  auto cmd = parse_command("/nick bob");
  CHECK(cmd.kind == command::unknown);
  CHECK(cmd.arg == "nick");
  CHECK(parse_command("/Help").kind == command::unknown);
}

#include "actors/text.hpp"

#include <catch2/catch.hpp>

using chat::make_terminal_safe;

TEST_CASE("trim drops surrounding white space", "[text]") {
  CHECK(chat::trim("  hi there \t\r\n") == "hi there");
  CHECK(chat::trim(" \t ").empty());
  CHECK(chat::trim("").empty());
}

TEST_CASE("plain text and tabs pass unchanged", "[text]") {
  CHECK(make_terminal_safe("hello\tworld") == "hello\tworld");
  CHECK(make_terminal_safe("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x8d\x95")
        == "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x8d\x95");
}

TEST_CASE("C0 controls, DEL and C1 controls are replaced", "[text]") {
  CHECK(make_terminal_safe("\x1b[31mred") == "\uFFFD[31mred");
  CHECK(make_terminal_safe(std::string("a\0b", 3)) == "a\uFFFDb");
  CHECK(make_terminal_safe("\r\n") == "\uFFFD\uFFFD");
  CHECK(make_terminal_safe("\x7f") == "\uFFFD");
  // U+009B is the one-byte CSI of 8-bit terminals.
  CHECK(make_terminal_safe("\xc2\x9b"
                           "2J")
        == "\uFFFD"
           "2J");
  CHECK(make_terminal_safe("\xc2\x80\xc2\x9f") == "\uFFFD\uFFFD");
  // U+00A0 (no-break space) is not a control character.
  CHECK(make_terminal_safe("\xc2\xa0") == "\xc2\xa0");
}

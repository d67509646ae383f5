#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

TEST_CASE("a chat line reaches the others stamped with the sender's seconds",
          "[main-room]") {
  // The seed's example: connect, 3 s later `pizza later?`, 3 s later
  // `or maybe pasta?`.
  node_fixture node;
  auto a = node.connect();
  auto b = node.connect();
  a.received();
  b.received();
  node.advance(3400ms);
  node.type(a, "pizza later?");
  CHECK(b.received() == lines{"3 pizza later?"});
  node.advance(3000ms);
  node.type(a, "or maybe pasta?");
  CHECK(b.received() == lines{"6 or maybe pasta?"});
  CHECK(a.received().empty());
}

TEST_CASE("the stamp counts from the sender's connection, not the "
          "receiver's",
          "[main-room]") {
  node_fixture node;
  auto a = node.connect();
  node.advance(5s);
  auto b = node.connect();
  a.received();
  b.received();
  node.advance(999ms);
  node.type(b, "hi");
  node.type(a, "hello");
  CHECK(a.received() == lines{"0 hi"});
  CHECK(b.received() == lines{"5 hello"});
}

TEST_CASE("a chat line reaches every other main-room member, not the sender",
          "[main-room]") {
  node_fixture node;
  auto cs = node.connect_all(4);
  node.type(cs[1], "hello all");
  CHECK(cs[0].received() == lines{"0 hello all"});
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received() == lines{"0 hello all"});
  CHECK(cs[3].received() == lines{"0 hello all"});
}

TEST_CASE("a line is relayed as typed, surrounding spaces included",
          "[main-room]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "  indented ");
  CHECK(cs[1].received() == lines{"0   indented "});
}

TEST_CASE("an empty or white-space line is not relayed", "[main-room]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "");
  node.type(cs[0], " \t ");
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
}

TEST_CASE("relayed text cannot steer another client's terminal",
          "[main-room]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "a\x1b[2Jb\x1b]0;pwned\x07"
                   "c\r\nd\x7f"
                   "e\xc2\x9b"
                   "f\tg");
  CHECK(cs[1].received()
        == lines{"0 a\uFFFD[2Jb\uFFFD]0;pwned\uFFFDc\uFFFD\uFFFDd\uFFFDe\uFFFDf"
                 "\tg"});
}

TEST_CASE("a command word inside a sentence is a chat message", "[main-room]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page me later");
  node.type(cs[0], "Leave");
  CHECK(cs[1].received() == lines{"0 page me later", "0 Leave"});
}

TEST_CASE("the stamp counts from the handshake, even when the session actor "
          "starts later",
          "[main-room]") {
  node_fixture node;
  auto a = node.connect();
  a.received();
  // A busy node: the handshake completes, the actor runs 1.5 s later.
  auto b = node.handshake();
  node.advance(1500ms);
  b.received();
  node.type(b, "hi");
  CHECK(a.received() == lines{"Client 2 connected", "1 hi"});
  node.disconnect(b);
}

#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;

TEST_CASE("/help lists every command", "[extras]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "/help");
  auto help = cs[0].received();
  REQUIRE(!help.empty());
  for (auto word : {"page", "invite <N>", "leave", "/who", "/help"}) {
    auto mentions = [&](const std::string& line) {
      return line.find(word) != std::string::npos;
    };
    CHECK(std::any_of(help.begin(), help.end(), mentions));
  }
  CHECK(cs[1].received().empty());
}

TEST_CASE("/who lists everyone, marking yourself and private chats",
          "[extras]") {
  node_fixture node;
  auto cs = node.connect_all(4);
  node.type(cs[1], "invite 3");
  cs[1].received();
  node.type(cs[0], "/who");
  CHECK(cs[0].received()
        == lines{"Online: 4", "Client 1 (you)", "Client 2 (private chat)",
                 "Client 3 (private chat)", "Client 4"});
  CHECK(cs[3].received().empty());
}

TEST_CASE("/who in a large room names the first clients, then counts",
          "[extras]") {
  chat::lobby_config config;
  config.who_limit = 2;
  node_fixture node{config};
  auto cs = node.connect_all(5);
  node.type(cs[4], "/who");
  CHECK(cs[4].received()
        == lines{"Online: 5", "Client 1", "Client 2", "\u2026 and 3 more"});
}

TEST_CASE("an unknown slash command is an error", "[extras]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "/nick bob");
  node.type(cs[0], "/");
  CHECK(cs[0].received()
        == lines{"Error: unknown command: /nick (try /help)",
                 "Error: unknown command: / (try /help)"});
  CHECK(cs[1].received().empty());
}

TEST_CASE("a binary frame is answered with an error, nothing relayed",
          "[extras]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.send_binary(cs[0]);
  CHECK(cs[0].received() == lines{"Error: binary frames are not supported"});
  CHECK(cs[1].received().empty());
  node.type(cs[0], "text works");
  CHECK(cs[1].received() == lines{"0 text works"});
}

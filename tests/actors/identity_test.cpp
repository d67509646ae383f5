#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;

TEST_CASE("the first client is told it is Client 1", "[identity]") {
  node_fixture node;
  auto a = node.connect();
  CHECK(a.received() == lines{"You are Client 1"});
}

TEST_CASE("main-room members see a newcomer connect and later disconnect",
          "[identity]") {
  node_fixture node;
  auto a = node.connect();
  a.received();
  auto b = node.connect();
  CHECK(b.received() == lines{"You are Client 2"});
  CHECK(a.received() == lines{"Client 2 connected"});
  node.disconnect(b);
  CHECK(a.received() == lines{"Client 2 disconnected"});
  CHECK(b.received().empty());
}

TEST_CASE("client numbers are never reused, also after a disconnect",
          "[identity]") {
  node_fixture node;
  auto a = node.connect();
  auto b = node.connect();
  node.disconnect(b);
  node.disconnect(a);
  auto c = node.connect();
  CHECK(c.received() == lines{"You are Client 3"});
}

TEST_CASE("numbers follow the order of handshakes, whichever session actor "
          "starts first",
          "[identity]") {
  node_fixture node;
  auto a = node.handshake();
  auto b = node.handshake();
  // A busy node: the second session actor gets a thread before the first.
  node.run_first(b);
  node.run();
  CHECK(a.received() == lines{"You are Client 1", "Client 2 connected"});
  CHECK(b.received() == lines{"You are Client 2"});
}

TEST_CASE("lines sent before the client has its number are relayed after, "
          "in order",
          "[identity]") {
  node_fixture node;
  auto a = node.connect();
  a.received();
  auto b = node.handshake();
  node.enqueue(b, "first");
  node.enqueue(b, "/who");
  node.enqueue(b, "second");
  node.run_first(b);
  node.run();
  CHECK(a.received() == lines{"Client 2 connected", "0 first", "0 second"});
  CHECK(
    b.received()
    == lines{"You are Client 2", "Online: 2", "Client 1", "Client 2 (you)"});
}

TEST_CASE("a client that leaves before it has its number arrives and leaves "
          "all the same, its lines unsaid",
          "[identity]") {
  node_fixture node;
  auto a = node.connect();
  a.received();
  auto b = node.handshake();
  node.enqueue(b, "never said");
  node.enqueue_disconnect(b);
  node.run_first(b); // its session sees both before the lobby's welcome
  node.run();
  CHECK(a.received() == lines{"Client 2 connected", "Client 2 disconnected"});
  // The lobby greets through the link as it numbers the session (a link
  // whose connection is gone drops it).
  CHECK(b.received() == lines{"You are Client 2"});
}

TEST_CASE("members of a private chat hear of no arrival or departure",
          "[identity]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  auto d = node.connect();
  CHECK(cs[2].received() == lines{"Client 4 connected"});
  node.disconnect(d);
  CHECK(cs[2].received() == lines{"Client 4 disconnected"});
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
}

TEST_CASE("a large room gets one summary a second instead of each arrival",
          "[identity]") {
  chat::lobby_config config;
  config.announce_limit = 2;
  node_fixture node{config};
  auto cs = node.connect_all(2);
  auto c = node.connect();
  CHECK(c.received() == lines{"You are Client 3"});
  auto d = node.connect();
  node.disconnect(d);
  CHECK(cs[0].received().empty());
  node.advance(std::chrono::seconds{1});
  auto summary = "2 clients connected, 1 disconnected (3 online)";
  CHECK(cs[0].received() == lines{summary});
  CHECK(cs[1].received() == lines{summary});
  CHECK(c.received() == lines{summary});
  // A quiet second sends nothing.
  node.advance(std::chrono::seconds{1});
  CHECK(cs[0].received().empty());
}

TEST_CASE("a room at the announce limit still announces one by one",
          "[identity]") {
  chat::lobby_config config;
  config.announce_limit = 2;
  node_fixture node{config};
  auto a = node.connect();
  a.received();
  auto b = node.connect();
  CHECK(a.received() == lines{"Client 2 connected"});
  node.disconnect(b);
  CHECK(a.received() == lines{"Client 2 disconnected"});
}

TEST_CASE("members of a private chat do not count toward the announce limit",
          "[identity]") {
  auto ends_by = GENERATE(as<std::string>{}, "leave", "disconnect");
  chat::lobby_config config;
  config.announce_limit = 3;
  node_fixture node{config};
  auto cs = node.connect_all(4);
  // Client 4's arrival was summed up: let that summary go first.
  node.advance(std::chrono::seconds{1});
  for (auto& c : cs)
    c.received();
  node.start_private_chat(cs[0], cs[1]);
  // The main room is Clients 3 and 4, and now 5: announced one by one.
  auto e = node.connect();
  CHECK(cs[2].received() == lines{"Client 5 connected"});
  e.received();
  // The chat ends: its members count again, the room is large.
  if (ends_by == "leave")
    node.type(cs[0], "leave");
  else
    node.disconnect(cs[1]);
  cs[0].received();
  node.disconnect(e);
  CHECK(cs[2].received().empty());
  node.advance(std::chrono::seconds{1});
  auto summary = ends_by == "leave"
                   ? "0 clients connected, 1 disconnected (4 online)"
                   : "0 clients connected, 2 disconnected (3 online)";
  CHECK(cs[2].received() == lines{summary});
  CHECK(cs[0].received() == lines{summary});
}

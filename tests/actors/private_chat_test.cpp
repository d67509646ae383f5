#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

TEST_CASE("invite moves both clients into a private chat", "[invite]") {
  auto how = GENERATE(as<std::string>{}, "invite 2", "invite Client 2",
                      "  invite   2  ", "invite 02");
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], how);
  CHECK(cs[0].received() == lines{"Private chatting with Client 2"});
  CHECK(cs[1].received() == lines{"Private chatting with Client 1"});
  CHECK(cs[2].received().empty());
}

TEST_CASE("a private line reaches the partner only", "[invite]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.advance(2s);
  node.start_private_chat(cs[0], cs[1]);
  node.type(cs[0], "just between us");
  node.type(cs[1], "sure");
  CHECK(cs[1].received() == lines{"2 just between us"});
  CHECK(cs[0].received() == lines{"2 sure"});
  CHECK(cs[2].received().empty());
}

TEST_CASE("members of a private chat do not see the main room", "[invite]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.type(cs[2], "anyone here?");
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
}

TEST_CASE("invite errors go to the inviter only and change nothing",
          "[invite]") {
  using entry = std::pair<std::string, std::string>;
  auto [line, error]
    = GENERATE(entry{"invite 7", "Error: no such client: 7"},
               entry{"invite Client 7", "Error: no such client: Client 7"},
               entry{"invite bob", "Error: no such client: bob"},
               entry{"invite -2", "Error: no such client: -2"},
               entry{"invite 0", "Error: no such client: 0"},
               entry{"invite 2 3", "Error: no such client: 2 3"},
               entry{"invite 99999999999999999999999",
                     "Error: no such client: 99999999999999999999999"},
               entry{"invite \x1b[1m2", "Error: no such client: \uFFFD[1m2"},
               entry{"invite 1", "Error: you cannot invite yourself"},
               entry{"invite", "Usage: invite <N>"});
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], line);
  CHECK(cs[0].received() == lines{error});
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received().empty());
  // Still in the main room.
  node.type(cs[0], "still here");
  CHECK(cs[1].received() == lines{"0 still here"});
  CHECK(cs[2].received() == lines{"0 still here"});
}

TEST_CASE("a disconnected client cannot be invited", "[invite]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.disconnect(cs[1]);
  cs[0].received();
  node.type(cs[0], "invite 2");
  CHECK(cs[0].received() == lines{"Error: no such client: 2"});
}

TEST_CASE("a client in a private chat cannot be invited", "[invite]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.type(cs[2], "invite 2");
  CHECK(cs[2].received()
        == lines{"Error: Client 2 is already in a private chat"});
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
}

TEST_CASE("a client in a private chat cannot invite", "[invite]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.type(cs[1], "invite 3");
  CHECK(cs[1].received()
        == lines{"Error: you are already in a private chat; type leave first"});
  CHECK(cs[0].received().empty());
  CHECK(cs[2].received().empty());
}

TEST_CASE("leave ends the private chat for both, back in the main room",
          "[leave]") {
  auto leaver = GENERATE(0, 1);
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.type(cs[leaver], "leave");
  CHECK(cs[0].received() == lines{"Private chat ended."});
  CHECK(cs[1].received() == lines{"Private chat ended."});
  CHECK(cs[2].received().empty());
  node.type(cs[2], "welcome back");
  CHECK(cs[0].received() == lines{"0 welcome back"});
  CHECK(cs[1].received() == lines{"0 welcome back"});
  node.type(cs[0], "thanks");
  CHECK(cs[1].received() == lines{"0 thanks"});
  CHECK(cs[2].received() == lines{"0 thanks"});
}

TEST_CASE("leave outside a private chat is an error", "[leave]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "leave");
  CHECK(cs[0].received() == lines{"Error: you are not in a private chat"});
  CHECK(cs[1].received().empty());
}

TEST_CASE("a partner's disconnect ends the chat and returns the other",
          "[leave]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.disconnect(cs[1]);
  CHECK(cs[0].received()
        == lines{"Private chat ended.", "Client 2 disconnected"});
  CHECK(cs[2].received() == lines{"Client 2 disconnected"});
  node.type(cs[2], "hi");
  CHECK(cs[0].received() == lines{"0 hi"});
}

TEST_CASE("after a private chat both can start another", "[leave]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "invite 2");
  node.type(cs[1], "leave");
  node.type(cs[1], "invite 3");
  cs[0].received();
  node.type(cs[1], "new secret");
  CHECK(cs[2].received()
        == lines{"Private chatting with Client 2", "0 new secret"});
  CHECK(cs[0].received().empty());
}

TEST_CASE("a private line crossing the end of the chat reaches nobody and "
          "its sender is told",
          "[leave]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "invite 2");
  for (auto& c : cs)
    c.received();
  // Client 2 leaves; the pair ends before client 1's session hears of it.
  node.enqueue(cs[1], "leave");
  node.enqueue(cs[0], "still secret");
  node.run_all_but(cs[0]);
  node.run();
  CHECK(cs[0].received()
        == lines{"Private chat ended.",
                 "Error: the private chat ended before your line was "
                 "delivered"});
  CHECK(cs[1].received() == lines{"Private chat ended."});
  CHECK(cs[2].received().empty());
}

TEST_CASE("a leave and the partner's disconnect at once end the chat once",
          "[leave]") {
  auto leave_first = GENERATE(true, false);
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.leave_as_partner_disconnects(cs[0], cs[1], leave_first);
  // Ended once: one `Private chat ended.`; a leave that comes after the
  // end finds no chat.
  auto ended = lines{"Private chat ended.", "Client 2 disconnected"};
  if (!leave_first)
    ended.push_back("Error: you are not in a private chat");
  CHECK(cs[0].received() == ended);
  CHECK(cs[2].received() == lines{"Client 2 disconnected"});
  node.type(cs[2], "back?");
  CHECK(cs[0].received() == lines{"0 back?"});
}

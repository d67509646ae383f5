// The cluster's rules (CLUSTER.md), with two and three lobbies linked
// through the peer interface in one test actor system.

#include <algorithm>

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include "cluster_fixture.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

std::string connected(const client& c) {
  return "Client " + std::to_string(c.number) + " connected";
}

std::string disconnected(const client& c) {
  return "Client " + std::to_string(c.number) + " disconnected";
}

uint64_t gauge(const std::atomic<uint64_t>& x) {
  return x.load();
}

} // namespace

TEST_CASE("node K of M numbers its clients K, K+M, K+2M, …", "[cluster]") {
  cluster_fixture cluster{3};
  CHECK(cluster.connect(1).number == 1);
  CHECK(cluster.connect(2).number == 2);
  CHECK(cluster.connect(1).number == 4);
  CHECK(cluster.connect(3).number == 3);
  CHECK(cluster.connect(1).number == 7);
  CHECK(cluster.connect(2).number == 5);
}

TEST_CASE("a restarted node hands out no number it handed out before",
          "[cluster]") {
  cluster_fixture cluster{2};
  auto a = cluster.connect(2);
  auto b = cluster.connect(2);
  REQUIRE(b.number == 4);
  cluster.kill(2);
  // Back with no memory of its own: it waits for its peer's numbers.
  cluster.start(2, true);
  auto early = cluster.handshake_with(cluster.lobby(2));
  cluster.run();
  CHECK(early.received().empty());
  cluster.link(1, 2);
  CHECK(early.received().front() == "You are Client 6");
  CHECK(cluster.connect(2).number == 8);
}

TEST_CASE("a node with peers that do not answer numbers after the timeout",
          "[cluster]") {
  cluster_fixture cluster{2};
  cluster.kill(2);
  cluster.start(2, true);
  auto c = cluster.handshake_with(cluster.lobby(2));
  cluster.run();
  CHECK(c.received().empty());
  cluster.advance(3s);
  CHECK(c.received() == lines{"You are Client 2"});
}

TEST_CASE("arrivals and departures are announced on every node",
          "[cluster]") {
  cluster_fixture cluster{3};
  auto cs = cluster.connect_all({1, 3});
  auto newcomer = cluster.connect(2);
  CHECK(newcomer.received() == lines{"You are Client 2"});
  CHECK(cs[0].received() == lines{connected(newcomer)});
  CHECK(cs[1].received() == lines{connected(newcomer)});
  cluster.disconnect(newcomer);
  CHECK(cs[0].received() == lines{disconnected(newcomer)});
  CHECK(cs[1].received() == lines{disconnected(newcomer)});
}

TEST_CASE("a main-room line reaches every other member on every node, "
          "stamped by its sender's node",
          "[cluster]") {
  cluster_fixture cluster{3};
  auto sender = cluster.connect(1);
  cluster.advance(2s);
  auto cs = cluster.connect_all({1, 2, 3, 3});
  sender.received();
  cluster.advance(3s);
  cluster.type(sender, "hello, cluster");
  CHECK(sender.received().empty());
  for (auto& c : cs)
    CHECK(c.received() == lines{"5 hello, cluster"});
  // Each node counts the deliveries to its own clients.
  CHECK(gauge(cluster.stats[0]->deliveries) == 1);
  CHECK(gauge(cluster.stats[1]->deliveries) == 1);
  CHECK(gauge(cluster.stats[2]->deliveries) == 2);
}

TEST_CASE("lines of one sender arrive in order on every node", "[cluster]") {
  cluster_fixture cluster{2};
  auto cs = cluster.connect_all({1, 2});
  for (int i = 0; i < 50; ++i)
    cluster.enqueue(cs[0], "line " + std::to_string(i));
  cluster.run();
  lines expected;
  for (int i = 0; i < 50; ++i)
    expected.push_back("0 line " + std::to_string(i));
  CHECK(cs[1].received() == expected);
}

TEST_CASE("the large-room rule counts the cluster's main room", "[cluster]") {
  chat::lobby_config config;
  config.announce_limit = 3;
  cluster_fixture cluster{2, config};
  auto cs = cluster.connect_all({1, 2, 1});
  // Four members with the newcomer: summed up, on both nodes.
  auto fourth = cluster.connect(2);
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
  cluster.advance(1s);
  auto summary = lines{"1 clients connected, 0 disconnected (4 online)"};
  CHECK(cs[0].received() == summary);
  CHECK(cs[1].received() == summary);
  CHECK(cs[2].received() == summary);
  // Two of them in a private chat: the room is small again.
  fourth.received();
  cluster.start_private_chat(cs[0], cs[1]);
  auto fifth = cluster.connect(1);
  CHECK(cs[2].received() == lines{connected(fifth)});
  CHECK(fourth.received() == lines{connected(fifth)});
}

TEST_CASE("invite works across nodes; a private line reaches the partner "
          "only",
          "[cluster]") {
  cluster_fixture cluster{3};
  auto cs = cluster.connect_all({1, 2, 3, 1});
  cluster.start_private_chat(cs[0], cs[1]);
  cluster.type(cs[0], "just us");
  cluster.type(cs[1], "sure");
  CHECK(cs[1].received() == lines{"0 just us"});
  CHECK(cs[0].received() == lines{"0 sure"});
  CHECK(cs[2].received().empty());
  CHECK(cs[3].received().empty());
  // The room goes on without them, on every node.
  cluster.type(cs[2], "anyone?");
  CHECK(cs[3].received() == lines{"0 anyone?"});
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received().empty());
  CHECK(gauge(cluster.stats[1]->private_chats) == 1);
}

TEST_CASE("invite errors hold across nodes", "[cluster]") {
  cluster_fixture cluster{3};
  auto cs = cluster.connect_all({1, 2, 3, 2});
  cluster.type(cs[0], "invite 9");
  CHECK(cs[0].received() == lines{"Error: no such client: 9"});
  cluster.type(cs[0], "invite 1");
  CHECK(cs[0].received() == lines{"Error: you cannot invite yourself"});
  cluster.start_private_chat(cs[1], cs[2]);
  cluster.type(cs[0], "invite 2");
  CHECK(cs[0].received()
        == lines{"Error: Client 2 is already in a private chat"});
  cluster.type(cs[1], "invite 5");
  CHECK(cs[1].received()
        == lines{"Error: you are already in a private chat; type leave "
                 "first"});
  // The target left the cluster between the check here and its node's.
  cluster.enqueue(cs[0], "invite 5");
  cluster.enqueue_disconnect(cs[3]);
  cluster.run();
  auto got = cs[0].received();
  CHECK((got
           == lines{"Client 5 disconnected", "Error: no such client: 5"}
         || got
              == lines{"Error: no such client: 5", "Client 5 disconnected"}));
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received().empty());
}

TEST_CASE("crossing invites put nobody in two chats and leave nobody stuck",
          "[cluster]") {
  SECTION("two clients invite each other: the lower number's invite wins") {
    cluster_fixture cluster{2};
    auto cs = cluster.connect_all({1, 2});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[1], "invite 1");
    cluster.run();
    // As if Client 2 had typed its invite once in the chat.
    CHECK(cs[0].received() == lines{"Private chatting with Client 2"});
    CHECK(cs[1].received()
          == lines{"Private chatting with Client 1",
                   "Error: you are already in a private chat; type leave "
                   "first"});
    cluster.type(cs[1], "between us");
    CHECK(cs[0].received() == lines{"0 between us"});
    cluster.type(cs[0], "leave");
    cs[1].received();
    cs[0].received();
    cluster.type(cs[0], "back in the room");
    CHECK(cs[1].received() == lines{"0 back in the room"});
  }
  SECTION("two clients on two nodes invite a third") {
    cluster_fixture cluster{3};
    auto cs = cluster.connect_all({1, 2, 3});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[2], "invite 2");
    cluster.run();
    auto a = cs[0].received();
    auto b = cs[1].received();
    auto c = cs[2].received();
    auto busy = lines{"Error: Client 2 is already in a private chat"};
    auto won_a = a == lines{"Private chatting with Client 2"} && c == busy
                 && b == lines{"Private chatting with Client 1"};
    auto won_c = c == lines{"Private chatting with Client 2"} && a == busy
                 && b == lines{"Private chatting with Client 3"};
    CHECK((won_a || won_c));
  }
  SECTION("a client invites while it is being invited") {
    cluster_fixture cluster{3};
    auto cs = cluster.connect_all({1, 2, 3});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[1], "invite 3");
    cluster.run();
    // Client 2 ends up in one chat at most; whoever is not in one can
    // still reach the main room.
    auto b = cs[1].received();
    REQUIRE(b.size() == 1);
    cs[0].received();
    cs[2].received();
    cluster.type(cs[1], "who am I with?");
    auto heard_by_1 = cs[0].received() == lines{"0 who am I with?"};
    auto heard_by_3 = cs[2].received() == lines{"0 who am I with?"};
    if (b.front() == "Private chatting with Client 1")
      CHECK((heard_by_1 && !heard_by_3));
    else if (b.front() == "Private chatting with Client 3")
      CHECK((heard_by_3 && !heard_by_1));
    else
      FAIL("Client 2 got " << b.front());
  }
}

TEST_CASE("leave ends a chat across nodes for both", "[cluster]") {
  cluster_fixture cluster{2};
  auto cs = cluster.connect_all({1, 2, 1});
  cluster.start_private_chat(cs[0], cs[1]);
  cluster.type(cs[1], "leave");
  CHECK(cs[0].received() == lines{"Private chat ended."});
  CHECK(cs[1].received() == lines{"Private chat ended."});
  cluster.type(cs[1], "back");
  CHECK(cs[0].received() == lines{"0 back"});
  CHECK(cs[2].received() == lines{"0 back"});
}

TEST_CASE("a partner's disconnect on another node ends the chat first",
          "[cluster]") {
  auto inviter_leaves = GENERATE(true, false);
  cluster_fixture cluster{2};
  auto cs = cluster.connect_all({1, 2});
  cluster.start_private_chat(cs[0], cs[1]);
  auto& gone = inviter_leaves ? cs[0] : cs[1];
  auto& stays = inviter_leaves ? cs[1] : cs[0];
  cluster.disconnect(gone);
  CHECK(stays.received() == lines{"Private chat ended.", disconnected(gone)});
}

TEST_CASE("page reaches every node, and a frame on any node stops it",
          "[cluster]") {
  cluster_fixture cluster{3};
  auto cs = cluster.connect_all({1, 2, 3, 1});
  cluster.type(cs[0], "page");
  for (size_t i = 1; i < cs.size(); ++i)
    CHECK(cs[i].received() == lines{"PAGING"});
  CHECK(cs[0].received().empty());
  cluster.advance(1s);
  for (size_t i = 1; i < cs.size(); ++i)
    CHECK(cs[i].received() == lines{"PAGING"});
  // The pager's own frames do not stop it.
  cluster.type(cs[0], "wake up");
  cluster.advance(1s);
  CHECK(cs[2].received() == lines{"1 wake up", "PAGING"});
  cs[1].received();
  cs[3].received();
  // A private line on node 3 is a frame too.
  cluster.type(cs[2], "/help");
  cs[2].received();
  cluster.advance(3s);
  for (auto& c : cs)
    CHECK(c.received().empty());
  for (auto& s : cluster.stats)
    CHECK(read(s->active_pages) == 0);
}

TEST_CASE("clients that connect to any node during a page are paged",
          "[cluster]") {
  cluster_fixture cluster{2};
  auto cs = cluster.connect_all({1, 2});
  cluster.type(cs[0], "page");
  cs[1].received();
  auto late = cluster.connect(2);
  late.received();
  cluster.advance(1s);
  CHECK(late.received() == lines{"PAGING"});
  CHECK(cs[1].received() == lines{connected(late), "PAGING"});
}

TEST_CASE("/who lists the cluster", "[cluster]") {
  cluster_fixture cluster{3};
  auto cs = cluster.connect_all({1, 2, 3, 1});
  cluster.start_private_chat(cs[1], cs[2]);
  cluster.type(cs[3], "/who");
  CHECK(cs[3].received()
        == lines{"Online: 4", "Client 1", "Client 2 (private chat)",
                 "Client 3 (private chat)", "Client 4 (you)"});
}

TEST_CASE("/who lists the first 100 of the cluster and counts the rest",
          "[cluster]") {
  cluster_fixture cluster{2};
  std::vector<chat::node_index> nodes;
  for (int i = 0; i < 103; ++i)
    nodes.push_back(i % 2 + 1);
  auto cs = cluster.connect_all(nodes);
  cluster.type(cs[0], "/who");
  auto got = cs[0].received();
  REQUIRE(got.size() == 102);
  CHECK(got.front() == "Online: 103");
  CHECK(got[1] == "Client 1 (you)");
  CHECK(got[100] == "Client 100");
  CHECK(got.back() == "\u2026 and 3 more");
}

TEST_CASE("a lost node's clients leave, its pairs end, its pages stop",
          "[cluster]") {
  cluster_fixture cluster{3};
  // Clients 1 and 4 on node 1, 2 and 5 on node 2, 3 on node 3.
  auto cs = cluster.connect_all({1, 2, 3, 1, 2});
  // A pair on node 2 (its invitee's), another on node 1.
  cluster.start_private_chat(cs[0], cs[1]);
  cluster.start_private_chat(cs[4], cs[3]);
  cluster.type(cs[1], "page");
  for (auto& c : cs)
    c.received();
  cluster.kill(2);
  CHECK(cs[0].received()
        == lines{"Private chat ended.", disconnected(cs[1]),
                 disconnected(cs[4])});
  CHECK(cs[3].received()
        == lines{"Private chat ended.", disconnected(cs[1]),
                 disconnected(cs[4])});
  CHECK(cs[2].received()
        == lines{disconnected(cs[1]), disconnected(cs[4])});
  cluster.advance(3s);
  for (auto& c : cs)
    CHECK(c.received().empty());
  // The survivors chat on.
  cluster.type(cs[2], "still here");
  CHECK(cs[0].received() == lines{"3 still here"});
  CHECK(cs[3].received() == lines{"3 still here"});
  CHECK(gauge(cluster.stats[0]->peers) == 1);
  CHECK(gauge(cluster.stats[0]->peer_losses) == 1);
  CHECK(gauge(cluster.stats[0]->private_chats) == 0);
}

TEST_CASE("a node that comes back is announced again, with the same "
          "numbers",
          "[cluster]") {
  cluster_fixture cluster{2};
  auto cs = cluster.connect_all({1, 2, 2});
  cluster.cut(1, 2);
  CHECK(cs[0].received() == lines{disconnected(cs[1]), disconnected(cs[2])});
  CHECK(cs[1].received() == lines{disconnected(cs[0])});
  CHECK(cs[2].received() == lines{disconnected(cs[0])});
  // Each side goes on as a chat of its own.
  cluster.type(cs[1], "split");
  CHECK(cs[2].received() == lines{"0 split"});
  CHECK(cs[0].received().empty());
  cluster.link(1, 2);
  CHECK(cs[0].received() == lines{connected(cs[1]), connected(cs[2])});
  CHECK(cs[1].received() == lines{connected(cs[0])});
  CHECK(cs[2].received() == lines{connected(cs[0])});
  cluster.type(cs[0], "together again");
  CHECK(cs[1].received() == lines{"0 together again"});
  // Numbers stay unique across the split.
  CHECK(cluster.connect(2).number == 6);
}

namespace {

// A node that takes every message and answers none: what a frozen or
// overloaded peer looks like from its links.
using message_log = std::shared_ptr<std::vector<caf::message>>;

caf::behavior silent_peer(caf::event_based_actor* self, message_log log) {
  self->set_default_handler(
    [log](caf::scheduled_actor*,
          caf::message_view& x) -> caf::result<caf::message> {
      log->push_back(x.copy_content_to_message());
      return caf::message{};
    });
  return {[](int) {}};
}

// How many messages of `log` are `(peer_atom, <what>, …)`.
size_t count(const message_log& log, caf::atom_value what) {
  size_t n = 0;
  for (auto& msg : *log)
    if (msg.size() >= 2 && msg.match_element<caf::atom_value>(1)
        && msg.get_as<caf::atom_value>(1) == what)
      ++n;
  return n;
}

} // namespace

TEST_CASE("a peer that falls behind is dropped, and introduced again once "
          "it has caught up",
          "[cluster]") {
  using chat::client_ids;
  chat::lobby_config config;
  config.max_peer_backlog_bytes = 4096;
  cluster_fixture cluster{3, config};
  cluster.kill(3);
  // Node 3 is back, but it reads nothing.
  auto log = std::make_shared<std::vector<caf::message>>();
  auto slow = cluster.sys.spawn(silent_peer, log);
  auto slow_peer = caf::actor_cast<chat::peer_actor>(slow);
  caf::anon_send(cluster.lobby(1), chat::linked_atom_v, chat::node_index{3},
                 slow_peer);
  cluster.run();
  // Its roster, with no clients: it answers ours.
  auto answer_roster = [&] {
    caf::send_as(slow, cluster.lobby(1), chat::peer_atom_v,
                 chat::roster_atom_v, chat::node_index{3}, client_ids{},
                 client_ids{}, client_ids{}, client_ids(3, 0));
    cluster.run();
  };
  answer_roster();
  REQUIRE(count(log, caf::atom("roster")) == 1);
  REQUIRE(gauge(cluster.stats[0]->peers) == 2);
  auto cs = cluster.connect_all({1, 2});
  // About 4 KiB of lines: node 3 is dropped, node 2 gets every one.
  lines expected;
  for (int i = 0; i < 60; ++i) {
    auto line = "line " + std::to_string(i) + std::string(40, '.');
    cluster.type(cs[0], line);
    expected.push_back("0 " + line);
  }
  CHECK(cs[1].received() == expected);
  CHECK(count(log, caf::atom("drop")) == 1);
  CHECK(gauge(cluster.stats[0]->peer_backlog_drops) == 1);
  CHECK(gauge(cluster.stats[0]->peers) == 1);
  CHECK(gauge(cluster.stats[1]->peer_backlog_drops) == 0);
  // Its backlog stops growing: no line went to it after the drop.
  auto relayed = count(log, caf::atom("relay"));
  cluster.type(cs[0], "one more");
  CHECK(count(log, caf::atom("relay")) == relayed);
  // Never past the cap: the line that would pass it was not sent.
  CHECK(gauge(cluster.stats[0]->peer_backlog_bytes[2]) <= 4096);
  // Still behind: no new introduction.
  cluster.advance(2s);
  CHECK(count(log, caf::atom("roster")) == 1);
  // It catches up: introduced again, and linked once it answers.
  caf::send_as(slow, cluster.lobby(1), chat::peer_atom_v, chat::ack_atom_v,
               uint64_t{1} << 40);
  cluster.advance(30s);
  CHECK(count(log, caf::atom("roster")) == 2);
  answer_roster();
  CHECK(gauge(cluster.stats[0]->peers) == 2);
  cluster.type(cs[0], "welcome back");
  CHECK(count(log, caf::atom("relay")) == relayed + 1);
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
}

TEST_CASE("what an inviter types while another node decides waits for the "
          "answer",
          "[cluster]") {
  SECTION("leave ends the chat that the invite started") {
    cluster_fixture cluster{2};
    auto cs = cluster.connect_all({1, 2});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[0], "leave");
    cluster.run();
    CHECK(cs[0].received()
          == lines{"Private chatting with Client 2", "Private chat ended."});
    CHECK(cs[1].received()
          == lines{"Private chatting with Client 1", "Private chat ended."});
  }
  SECTION("a refused invite sends the next line to the room") {
    cluster_fixture cluster{3};
    auto cs = cluster.connect_all({1, 2, 2, 1});
    cluster.start_private_chat(cs[1], cs[2]);
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[0], "then to all");
    cluster.run();
    CHECK(cs[0].received()
          == lines{"Error: Client 2 is already in a private chat"});
    CHECK(cs[3].received() == lines{"0 then to all"});
    CHECK(cs[1].received().empty());
  }
  SECTION("a disconnect ends the chat after the lines before it") {
    cluster_fixture cluster{2};
    auto cs = cluster.connect_all({1, 2});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[0], "bye");
    cluster.enqueue_disconnect(cs[0]);
    cluster.run();
    CHECK(cs[1].received()
          == lines{"Private chatting with Client 1", "0 bye",
                   "Private chat ended.", "Client 1 disconnected"});
  }
  SECTION("the target's node is lost before it answers") {
    cluster_fixture cluster{3};
    auto cs = cluster.connect_all({1, 2, 3});
    cluster.enqueue(cs[0], "invite 2");
    cluster.enqueue(cs[0], "anyone?");
    cluster.kill(2);
    auto got = cs[0].received();
    auto third = cs[2].received();
    // Either the chat started and ended with the node, or the invite found
    // nobody; the line went to the chat or to the room, never both. (The
    // departure and the answer race: order aside.)
    std::sort(got.begin(), got.end());
    std::sort(third.begin(), third.end());
    auto in_chat = got
                   == lines{"Client 2 disconnected",
                            "Private chat ended.",
                            "Private chatting with Client 2"};
    auto refused = got
                   == lines{"Client 2 disconnected",
                            "Error: no such client: 2"};
    CHECK((in_chat || refused));
    if (refused)
      CHECK(third == lines{"0 anyone?", "Client 2 disconnected"});
    else
      CHECK(third == lines{"Client 2 disconnected"});
  }
}

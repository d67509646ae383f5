// The peer-links actor on CAF's test coordinator: several nodes' peer links
// in one actor system, a stand-in for the middleman's connect, recording
// lobbies. No socket; the test steps the scheduler and the clock.

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "cluster/peer_links.hpp"

using namespace std::chrono_literals;

namespace cluster_test {

using lines = std::vector<std::string>;

/// What a lobby heard from its peer links: node K's lobby is linked.
struct heard_link {
  chat::node_index node;
  caf::actor_addr lobby;

  friend bool operator==(const heard_link& x, const heard_link& y) {
    return x.node == y.node && x.lobby == y.lobby;
  }
};

using heard_links = std::vector<heard_link>;

/// The open cluster ports: address -> the peer links published there.
using port_table = std::map<std::string, caf::strong_actor_ptr>;

/// Answers connect as the middleman would, from `ports`; records each
/// address asked for.
cluster::connector_actor::behavior_type
fake_connector(cluster::connector_actor::pointer self,
               std::shared_ptr<port_table> ports,
               std::shared_ptr<lines> asked) {
  return {
    [=](caf::connect_atom, const std::string& host, uint16_t port)
      -> caf::result<caf::node_id, caf::strong_actor_ptr,
                     std::set<std::string>> {
      auto key = cluster::to_string(cluster::peer_address{host, port});
      asked->push_back(key);
      auto i = ports->find(key);
      if (i == ports->end())
        return caf::make_error(caf::sec::cannot_connect_to_node);
      return {self->node(), i->second,
              self->system().message_types<cluster::cluster_actor>()};
    },
  };
}

/// A lobby that records `linked` and ignores every other message.
caf::behavior recording_lobby(caf::event_based_actor* self,
                              std::shared_ptr<heard_links> heard) {
  self->set_default_handler(caf::drop);
  return {
    [=](chat::linked_atom, chat::node_index node, chat::peer_actor& lobby) {
      heard->push_back({node, lobby.address()});
    },
  };
}

/// One node: its peer links, its lobby and what they said.
struct node {
  cluster::cluster_actor links;
  caf::actor lobby;
  std::string address;
  std::shared_ptr<heard_links> heard = std::make_shared<heard_links>();
  std::shared_ptr<lines> log = std::make_shared<lines>();

  /// The lines logged since the last call.
  lines said() {
    return std::exchange(*log, {});
  }
};

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

class links_fixture {
public:
  links_fixture()
    : sys(testing_config(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    sys.await_actors_before_shutdown(false);
    connector = sys.spawn(fake_connector, ports, asked);
  }

  ~links_fixture() {
    for (auto& actor : spawned_)
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(connector, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Spawns node `k` of `slots` with its port on `port` and starts it
  /// (without running anything).
  node start(chat::node_index k, uint32_t slots, uint16_t port,
             const std::string& peers = "") {
    auto n = spawn(k, slots, port, peers);
    open(n);
    caf::anon_send(n.links, cluster::start_atom_v, port);
    return n;
  }

  node spawn(chat::node_index k, uint32_t slots, uint16_t port,
             const std::string& peers = "") {
    node n;
    n.address = "127.0.0.1:" + std::to_string(port);
    n.lobby = sys.spawn(recording_lobby, n.heard);
    cluster::peer_links_config config;
    config.node = k;
    config.slots = slots;
    config.peers = cluster::parse_peer_list(peers).addresses;
    config.lobby = caf::actor_cast<cluster::linked_lobby>(n.lobby);
    config.connector = connector;
    config.log = [log = n.log](const std::string& line) {
      log->push_back(line);
    };
    config.seed = k;
    n.links = sys.spawn(cluster::peer_links, config);
    spawned_.push_back(caf::actor_cast<caf::actor>(n.links));
    spawned_.push_back(n.lobby);
    return n;
  }

  /// Publishes `n` on its port.
  void open(const node& n) {
    (*ports)[n.address] = caf::actor_cast<caf::strong_actor_ptr>(n.links);
  }

  /// The node dies: its port closes, its actors go down.
  void kill(const node& n) {
    ports->erase(n.address);
    caf::anon_send_exit(n.links, caf::exit_reason::kill);
    caf::anon_send_exit(n.lobby, caf::exit_reason::kill);
    run();
  }

  void run() {
    sched.run();
  }

  /// Moves the clock forward in small steps, firing due timers and running
  /// the system after each.
  void advance(caf::timespan dt, caf::timespan step = 50ms) {
    for (caf::timespan t{0}; t < dt; t += step) {
      sched.advance_time(step);
      run();
    }
  }

  /// The addresses asked for since the last call.
  lines connects() {
    return std::exchange(*asked, {});
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<port_table> ports = std::make_shared<port_table>();
  std::shared_ptr<lines> asked = std::make_shared<lines>();
  cluster::connector_actor connector;

private:
  std::vector<caf::actor> spawned_;
};

heard_links heard(const node& n, chat::node_index k) {
  return {{k, n.lobby.address()}};
}

bool contains(const lines& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}


TEST_CASE("two nodes link, each lobby hears of the other's once",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 3, 9765);
  auto b = fx.start(2, 3, 9766, "127.0.0.1:9765");
  fx.run();
  CHECK(*a.heard == heard(b, 2));
  CHECK(*b.heard == heard(a, 1));
  CHECK(a.said() == lines{"linked node 2 at 127.0.0.1:9766"});
  CHECK(b.said() == lines{"linked node 1 at 127.0.0.1:9765"});
  // Linked nodes are not retried, and nothing more is said.
  fx.connects();
  fx.advance(10s, 1s);
  CHECK(fx.connects().empty());
  CHECK(a.heard->size() == 1);
  CHECK(b.said().empty());
}

TEST_CASE("a join that arrives before start is answered at start",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.spawn(1, 2, 9765);
  fx.open(a);
  auto b = fx.start(2, 2, 9766, "127.0.0.1:9765");
  fx.run();
  CHECK(a.heard->empty());
  caf::anon_send(a.links, cluster::start_atom_v, uint16_t{9765});
  fx.run();
  CHECK(*a.heard == heard(b, 2));
  CHECK(*b.heard == heard(a, 1));
}

TEST_CASE("two nodes that join each other at once link once",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 2, 9765, "127.0.0.1:9766");
  auto b = fx.start(2, 2, 9766, "127.0.0.1:9765");
  fx.run();
  CHECK(*a.heard == heard(b, 2));
  CHECK(*b.heard == heard(a, 1));
  CHECK(a.said() == lines{"linked node 2 at 127.0.0.1:9766"});
  CHECK(b.said() == lines{"linked node 1 at 127.0.0.1:9765"});
}

TEST_CASE("nodes that join one node end up linked to each other",
          "[peer-links]") {
  links_fixture fx;
  SECTION("one after the other") {
    auto a = fx.start(1, 3, 9765);
    auto b = fx.start(2, 3, 9766, "127.0.0.1:9765");
    fx.run();
    auto c = fx.start(3, 3, 9767, "127.0.0.1:9765");
    fx.run();
    CHECK(*a.heard == (heard_links{{2, b.lobby.address()},
                                   {3, c.lobby.address()}}));
    CHECK(*b.heard == (heard_links{{1, a.lobby.address()},
                                   {3, c.lobby.address()}}));
    CHECK(*c.heard == (heard_links{{1, a.lobby.address()},
                                   {2, b.lobby.address()}}));
  }
  SECTION("all at the same moment") {
    auto a = fx.start(1, 4, 9765);
    auto b = fx.start(2, 4, 9766, "127.0.0.1:9765");
    auto c = fx.start(3, 4, 9767, "127.0.0.1:9765");
    auto d = fx.start(4, 4, 9768, "127.0.0.1:9765");
    fx.run();
    for (auto* n : {&a, &b, &c, &d}) {
      INFO(n->address);
      CHECK(n->heard->size() == 3);
    }
    // The lower index connects to a node it learned of, the higher waits:
    // no pair connected both ways.
    auto asked = fx.connects();
    auto count = [&](const char* address) {
      return std::count(asked.begin(), asked.end(), address);
    };
    CHECK(count("127.0.0.1:9765") == 3);
    CHECK(count("127.0.0.1:9766") == 0);
    CHECK(count("127.0.0.1:9767") == 1);
    CHECK(count("127.0.0.1:9768") == 2);
  }
}

TEST_CASE("a node with our index, or another's, or other slots is refused "
          "on both ends, said once",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 3, 9765);
  auto b = fx.start(2, 3, 9766, "127.0.0.1:9765");
  fx.run();
  a.said();
  b.said();
  SECTION("our index") {
    auto c = fx.start(1, 3, 9767, "127.0.0.1:9765");
    fx.run();
    auto why = std::string{"both are node 1 (each node needs its own "
                           "--node-index)"};
    CHECK(a.said() == lines{"refusing node 1 at 127.0.0.1:9767: " + why});
    CHECK(c.said()
          == lines{"node 1 at 127.0.0.1:9765 refuses us: " + why
                   + "; retrying"});
    // It retries, with backoff, and says nothing more.
    fx.advance(30s, 100ms);
    CHECK(fx.connects().size() > 5);
    CHECK(a.said().empty());
    CHECK(c.said().empty());
    CHECK(c.heard->empty());
    CHECK(a.heard->size() == 1);
  }
  SECTION("the index of a node linked already") {
    auto c = fx.start(2, 3, 9767, "127.0.0.1:9765");
    fx.run();
    auto why = std::string{"node 2 is already linked at 127.0.0.1:9766 "
                           "(each node needs its own --node-index)"};
    CHECK(a.said() == lines{"refusing node 2 at 127.0.0.1:9767: " + why});
    CHECK(c.said()
          == lines{"node 1 at 127.0.0.1:9765 refuses us: " + why
                   + "; retrying"});
    fx.advance(10s, 100ms);
    CHECK(a.said().empty());
    CHECK(c.said().empty());
    CHECK(c.heard->empty());
    // Once the other node 2 is gone, the retry links.
    fx.kill(b);
    CHECK(a.said()
          == lines{"lost node 2 at 127.0.0.1:9766: "
                   "exit_reason(kill)"});
    fx.advance(10s, 100ms);
    CHECK(*c.heard == heard(a, 1));
    CHECK(contains(a.said(), "linked node 2 at 127.0.0.1:9767"));
  }
  SECTION("other slots") {
    auto c = fx.start(3, 4, 9767, "127.0.0.1:9765");
    fx.run();
    auto why = std::string{"different --cluster-slots: node 1 at "
                           "127.0.0.1:9765 has 3, node 3 at 127.0.0.1:9767 "
                           "has 4"};
    CHECK(a.said() == lines{"refusing node 3 at 127.0.0.1:9767: " + why});
    CHECK(c.said()
          == lines{"node 1 at 127.0.0.1:9765 refuses us: " + why
                   + "; retrying"});
    fx.advance(10s, 100ms);
    CHECK(a.said().empty());
    CHECK(c.said().empty());
  }
}

TEST_CASE("the joiner refuses a node whose index it has linked meanwhile",
          "[peer-links]") {
  links_fixture fx;
  // c knows a (node 1) and b, also node 1, and asks both at once; a and b
  // know nothing of each other, so each accepts.
  auto a = fx.start(1, 3, 9765);
  auto b = fx.start(1, 3, 9766);
  auto c = fx.start(3, 3, 9767, "127.0.0.1:9765,127.0.0.1:9766");
  fx.run();
  CHECK(c.heard->size() == 1);
  auto linked = c.heard->front().lobby;
  auto& other = linked == a.lobby.address() ? b : a;
  auto& winner = linked == a.lobby.address() ? a : b;
  CHECK(winner.heard->size() == 1);
  // The other one reserved node 3 for c, then heard c refuse: its lobby
  // never heard of c, and it says why.
  CHECK(other.heard->empty());
  auto lines_of_other = other.said();
  REQUIRE(lines_of_other.size() == 1);
  CHECK(lines_of_other[0]
        == "node 3 at 127.0.0.1:9767 refuses us: node 1 is already linked at "
             + winner.address + " (each node needs its own --node-index)");
}

TEST_CASE("a lost node is noticed and retried with backoff until it is back",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 2, 9765);
  auto b = fx.start(2, 2, 9766, "127.0.0.1:9765");
  fx.run();
  a.said();
  b.said();
  fx.connects();
  fx.kill(a);
  CHECK(b.said()
        == lines{"lost node 1 at 127.0.0.1:9765: exit_reason(kill)"});
  // 200 ms doubling to 5 s, each scaled into its upper half: within 60 s,
  // about a dozen attempts, and no more than two a second at first.
  fx.advance(1s, 10ms);
  auto first_second = fx.connects().size();
  CHECK(first_second >= 1);
  CHECK(first_second <= 3);
  fx.advance(59s, 100ms);
  auto later = fx.connects().size();
  CHECK(later >= 10);
  CHECK(later <= 25);
  // Said once, not once per attempt.
  CHECK(b.said()
        == lines{"cannot reach 127.0.0.1:9765: "
                 "system_error(cannot_connect_to_node); retrying"});
  // Node 1 restarts (a new process: new actors) knowing no one.
  auto again = fx.start(1, 2, 9765);
  fx.advance(6s, 100ms);
  CHECK(*b.heard
        == (heard_links{{1, a.lobby.address()}, {1, again.lobby.address()}}));
  CHECK(*again.heard == heard(b, 2));
}

TEST_CASE("a node that connected to us is retried by the lower index only",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 2, 9765);
  auto b = fx.start(2, 2, 9766, "127.0.0.1:9765");
  fx.run();
  fx.connects();
  // a learned b's address from b's join: a, the lower index, reconnects
  // when b is back (b, restarted without --peers, knows no one).
  fx.kill(b);
  fx.advance(2s);
  CHECK(!fx.connects().empty());
  auto again = fx.start(2, 2, 9766);
  fx.advance(6s);
  CHECK(again.heard->size() == 1);
  CHECK(a.heard->size() == 2);
}

TEST_CASE("a node in its backoff is tried at once when a linked node has "
          "it again",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 3, 9765);
  auto b = fx.start(2, 3, 9766, "127.0.0.1:9765");
  auto c = fx.start(3, 3, 9767, "127.0.0.1:9765");
  fx.run();
  fx.kill(c);
  // Long enough for b's retries to reach the 5 s cap.
  fx.advance(60s, 500ms);
  auto again = fx.start(3, 3, 9767, "127.0.0.1:9765");
  // No clock step: a links it, tells b, and b connects now.
  fx.run();
  CHECK(b.heard->back() == (heard_link{3, again.lobby.address()}));
  CHECK(a.heard->back() == (heard_link{3, again.lobby.address()}));
  CHECK(again.heard->size() == 2);
}

TEST_CASE("our own address in --peers is skipped, said once",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.spawn(1, 2, 9765, "localhost:9765,127.0.0.2:9765");
  fx.open(a);
  // Another spelling of our port reaches us through the connector.
  (*fx.ports)["127.0.0.2:9765"]
    = caf::actor_cast<caf::strong_actor_ptr>(a.links);
  caf::anon_send(a.links, cluster::start_atom_v, uint16_t{9765});
  fx.run();
  fx.advance(10s, 500ms);
  CHECK(a.said()
        == lines{"127.0.0.2:9765 is this node's own cluster port; skipped"});
  CHECK(fx.connects() == lines{"127.0.0.2:9765"});
  CHECK(a.heard->empty());
}

TEST_CASE("an address where no peer links answer is retried",
          "[peer-links]") {
  links_fixture fx;
  auto a = fx.start(1, 2, 9765, "127.0.0.1:9766");
  fx.run();
  (*fx.ports)["127.0.0.1:9766"] = nullptr;
  fx.advance(1s);
  CHECK(a.said()
        == lines{"cannot reach 127.0.0.1:9766: "
                 "system_error(cannot_connect_to_node); retrying",
                 "127.0.0.1:9766 is no chat-node cluster port (nothing "
                 "published); retrying"});
}

TEST_CASE("known entries are K@host:port", "[peer-links]") {
  CHECK(cluster::known_entry(2, "127.0.0.1:9766") == "2@127.0.0.1:9766");
  auto parsed = cluster::parse_known_entry("3@[::1]:9767");
  REQUIRE(parsed);
  CHECK(parsed->first == 3);
  CHECK(parsed->second == cluster::peer_address{"::1", 9767});
  for (auto bad : {"", "@127.0.0.1:1", "0@127.0.0.1:1", "x@127.0.0.1:1",
                   "2@127.0.0.1", "2127.0.0.1:1", "-1@127.0.0.1:1"})
    CHECK(!cluster::parse_known_entry(bad));
  CHECK(cluster::connects_to_learned(1, 2));
  CHECK(!cluster::connects_to_learned(2, 1));
  CHECK(cluster::connects_to_learned(2, 0));
}

TEST_CASE("retries back off from 200 ms to 5 s, with jitter",
          "[peer-links]") {
  auto delay = [](unsigned failures, double u) {
    return cluster::retry_delay(failures, 200ms, 5s, u);
  };
  CHECK(delay(0, 1.0) == 200ms);
  CHECK(delay(0, 0.0) == 100ms);
  CHECK(delay(1, 1.0) == 400ms);
  CHECK(delay(4, 1.0) == 3200ms);
  CHECK(delay(5, 1.0) == 5s);
  CHECK(delay(1000, 1.0) == 5s);
  CHECK(delay(1000, 0.0) == 2500ms);
  CHECK(delay(2, 0.5) == 600ms);
  // Out-of-range jitter is clamped.
  CHECK(delay(0, 7.0) == 200ms);
  CHECK(delay(0, -1.0) == 100ms);
}

} // namespace cluster_test

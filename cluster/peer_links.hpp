#pragma once

// The actor that links the nodes of a cluster: one per node, published on
// BASP behind the cluster port (cluster/port_guard). It connects to other
// nodes' ports, agrees with their peer links on who joins (the join
// handshake), tells its own lobby of each linked node, tells the linked
// nodes of each other (a full mesh), and reconnects, with backoff, to
// nodes it lost.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/node_id.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "cluster/peer_address.hpp"

CAF_ADD_ATOM(chat_cluster, cluster, join_atom, "join")
CAF_ADD_ATOM(chat_cluster, cluster, confirm_atom, "confirm")
CAF_ADD_ATOM(chat_cluster, cluster, refuse_atom, "refuse")
CAF_ADD_ATOM(chat_cluster, cluster, known_atom, "known")
CAF_ADD_ATOM(chat_cluster, cluster, start_atom, "start")
CAF_ADD_ATOM(chat_cluster, cluster, retry_atom, "retry")

namespace cluster {

/// What one node tells another in the join handshake, each way: its node
/// index, its slot count, its own cluster address ("host:port"), its
/// lobby, and the nodes it is linked to (see known_entry).
#define CHAT_CLUSTER_FACTS                                                     \
  chat::node_index, uint32_t, std::string, chat::peer_actor,                   \
    std::vector<std::string>

/// The peer links of one node, as other nodes' peer links and main() see
/// them. Only strings, numbers and a lobby handle cross nodes; the joiner
/// and the sender of confirm/refuse are known as the message's sender.
using cluster_actor = caf::typed_actor<
  // A node asks to join, with its facts. Replies "" and ours when we
  // accept (and wait for its confirm), else why we refuse, and ours.
  caf::replies_to<join_atom, CHAT_CLUSTER_FACTS>::with<std::string,
                                                       CHAT_CLUSTER_FACTS>,
  // The node we accepted takes the link; or refuses it, and why.
  caf::reacts_to<confirm_atom>, caf::reacts_to<refuse_atom, std::string>,
  // From a linked node, after each link it made: the nodes it is linked
  // to now (see known_entry), so that every node links every other.
  caf::reacts_to<known_atom, std::vector<std::string>>,
  // From main(), once the cluster port is open: its port; connect to
  // the peers now.
  caf::reacts_to<start_atom, uint16_t>,
  // Timer: try this address again (stale attempts are ignored).
  caf::reacts_to<retry_atom, std::string, uint64_t>>;

#undef CHAT_CLUSTER_FACTS

/// How peer links reach another node's cluster port: the middleman
/// actor's connect (`system.middleman().actor_handle()` converts to it), or
/// a test's stand-in. Answers the node, the actor published there (null
/// if none) and that actor's interface.
using connector_actor = caf::typed_actor<
  caf::replies_to<caf::connect_atom, std::string, uint16_t>::with<
    caf::node_id, caf::strong_actor_ptr, std::set<std::string>>>;

/// Our lobby as peer links need it: told of each linked node, and handed
/// to the other nodes. chat::lobby_actor converts to it.
using linked_lobby = caf::typed_actor<
  caf::reacts_to<chat::linked_atom, chat::node_index, chat::peer_actor>>::
  extend_with<chat::peer_actor>;

/// One linked node as nodes tell each other: "K@host:port".
std::string known_entry(chat::node_index node, const std::string& address);

/// Parses a known_entry; nullopt when it does not parse or K is 0.
std::optional<std::pair<chat::node_index, peer_address>>
parse_known_entry(std::string_view text);

/// Whether node `us` connects to node `them`, learned from another node:
/// the lower index does, the higher waits for it, so that two nodes told
/// of each other at once do not connect both ways at once (BASP 0.17.6
/// may then close both connections: each side keeps the direct route it
/// saw first and closes the other as redundant). An address from --peers
/// or of an unknown node is always connected to.
bool connects_to_learned(chat::node_index us, chat::node_index them);

/// The wait before the next attempt after `failures` failed ones in a row:
/// `first` doubled per failure up to `max`, scaled by 0.5 + 0.5·`u` (`u`
/// in [0, 1)) so that nodes that lost each other at once do not retry in
/// lockstep.
caf::timespan retry_delay(unsigned failures, caf::timespan first,
                          caf::timespan max, double u);

struct peer_links_config {
  chat::node_index node = 1;
  uint32_t slots = 1;
  /// Where our cluster port listens; start_atom brings the port.
  std::string host = "127.0.0.1";
  /// Links use TLS: nodes on other hosts may be linked (else only
  /// loopback addresses are, whatever a linked node says).
  bool tls = false;
  /// Nodes to join at start (--peers); the rest is learned from them.
  std::vector<peer_address> peers;
  /// Every request to another node gives up after this (a lost node never
  /// answers).
  caf::timespan timeout = std::chrono::seconds{3};
  /// Retries after a loss or a failed attempt: `first_retry` doubling to
  /// `max_retry`, with jitter, forever.
  caf::timespan first_retry = std::chrono::milliseconds{200};
  caf::timespan max_retry = std::chrono::seconds{5};
  linked_lobby lobby;
  connector_actor connector;
  /// Where the link events and refusals go, one line each (stderr in the
  /// node, prefixed "chat-node: cluster: ").
  std::function<void(const std::string&)> log;
  /// The jitter's seed; 0 seeds from std::random_device.
  uint64_t seed = 0;
};

/// Another node's peer links that we accepted (pending its confirm) or
/// linked, keyed by that actor.
struct peer_node {
  chat::node_index node = 0;
  /// Its own cluster address, as it says.
  std::string address;
  chat::peer_actor lobby;
  cluster_actor links;
  /// False while we accepted its join and wait for its confirm: its node
  /// index is taken meanwhile, but our lobby has not been told.
  bool linked = false;
  /// The nodes it said it is linked to, learned once it is linked.
  std::vector<std::string> known;
};

/// Where we stand with one cluster address.
enum class address_phase {
  /// Nothing to do: that node connects to us (connects_to_learned).
  idle,
  /// A retry is due.
  waiting,
  /// Asking the connector.
  connecting,
  /// Waiting for the answer to our join.
  joining,
  /// Linked to `links`.
  linked,
  /// Our own port: never retried.
  self,
};

/// One cluster address we connect to: from --peers, from a join, or a
/// linked node's own.
struct address_entry {
  peer_address where;
  /// The node there, once known (0: not yet).
  chat::node_index node = 0;
  /// From --peers: always retried (a restarted node knows only these).
  bool configured = false;
  address_phase phase = address_phase::idle;
  /// Bumped by each attempt and by linking: answers and timers of an older
  /// attempt are ignored.
  uint64_t attempt = 0;
  /// Failed attempts in a row, for the backoff.
  unsigned failures = 0;
  /// The peer links there: the one we join while joining, the one we
  /// are linked to once linked.
  caf::actor_addr links;
};

/// A node's facts in the join handshake (see cluster_actor).
struct node_facts {
  chat::node_index node = 0;
  uint32_t slots = 0;
  std::string address;
  chat::peer_actor lobby;
  std::vector<std::string> known;
};

/// The answer to a join: "" or why we refuse, and our facts.
using join_promise = caf::typed_response_promise<
  std::string, chat::node_index, uint32_t, std::string, chat::peer_actor,
  std::vector<std::string>>;

/// A join that arrived before start, answered at start.
struct early_join {
  caf::strong_actor_ptr sender;
  node_facts facts;
  join_promise promise;
};

struct peer_links_state {
  static inline const char* name = "peer-links";

  peer_links_config config;
  /// Our cluster address; empty until start.
  std::string self_address;
  std::vector<early_join> early_joins;
  std::map<caf::actor_addr, peer_node> peers;
  /// Other nodes' peer links we monitor (each once).
  std::set<caf::actor_addr> watched;
  /// Keyed by the address's text (to_string of peer_address). Entries are
  /// never removed: a lost node is retried forever.
  std::map<std::string, address_entry> addresses;
  /// What was last said about each address, so that a retry that fails
  /// the same way says nothing; cleared when it links.
  std::map<std::string, std::string> last_said;
  std::minstd_rand rng;
};

/// Spawn with the node's config, publish it (main(): on BASP's own port,
/// behind the port guard), then send `start_atom` with the cluster port
/// the other nodes reach it on.
cluster_actor::behavior_type
peer_links(cluster_actor::stateful_pointer<peer_links_state> self,
           peer_links_config config);

} // namespace cluster

#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/timespan.hpp>

#include "actors/chat_stats.hpp"
#include "actors/interfaces.hpp"
#include "actors/remote_roster.hpp"

namespace chat {

/// The lobby's knobs; main() fills them from the command line.
struct lobby_config {
  /// Above this many main-room members, arrivals and departures are summed
  /// up once per second instead of announced one by one.
  size_t announce_limit = 1000;

  /// How often a pager repeats `PAGING`.
  caf::timespan page_interval = std::chrono::seconds{1};

  /// How many clients `/who` lists by name.
  size_t who_limit = 100;

  /// Where the lobby and its private pairs publish their figures; main()
  /// hands the same object to the HTTP handler.
  chat_stats_ptr stats = std::make_shared<chat_stats>();

  /// How main-room lines reach the room; main() plugs in the bridge's.
  broadcaster_ptr fan_out = std::make_shared<broadcaster>();

  // The cluster (CLUSTER.md). The defaults are a node of its own.

  /// This node's place, 1 to `cluster_slots`: it hands out the numbers
  /// node, node + cluster_slots, node + 2 * cluster_slots, …
  node_index node = 1;
  uint32_t cluster_slots = 1;
  /// How long a question to another node may take (an invite, ending a
  /// private chat there); also how long a node that has peers to join
  /// waits for their numbers before it numbers its first client.
  caf::timespan cluster_timeout = std::chrono::seconds{3};
  /// Wait for a peer's roster (or `cluster_timeout`) before numbering: a
  /// restarted node learns from its peers which numbers it handed out.
  bool await_cluster = false;
  /// A peer that has not acknowledged this many bytes from us is dropped
  /// (a node loss) and introduced to again once it has caught up.
  uint64_t max_peer_backlog_bytes = 16 * 1024 * 1024;
};

/// An invite that waits for the answer of the target's node.
struct pending_invite {
  node_index node;
  client_id target;
  /// As typed, for an error line.
  std::string arg;
  /// The target invited this member too, at once, and won (the lower
  /// number): the member is in that chat, and this invite will be refused
  /// as if typed after. The refusal waits in `early_answer` should it come
  /// before that chat's room message.
  bool crossed = false;
  std::optional<std::string> early_answer;
  /// The member's frames (and its disconnect) since the invite, in order:
  /// handled once it is answered, so that a line typed right after
  /// `invite N` goes where it would on one node.
  std::vector<std::function<void()>> held;
};

/// One client of this node as the lobby sees it.
struct member {
  session_actor session;
  client_link_ptr link;
  /// The private chat this client is in; invalid while in the main room.
  private_pair_actor pair;
  /// The partner in that chat, on this node or another.
  client_id partner = 0;
  /// Its invite to a client of another node, while it waits for the
  /// answer: meanwhile it cannot be invited. Behind a pointer: every
  /// member carries the slot, few ever fill it (~120 bytes per client).
  std::unique_ptr<pending_invite> invite;
  /// Its connection is gone; it stays until its private chat has ended.
  bool gone = false;
};

/// Another node's lobby, linked to ours.
struct peer {
  peer_actor lobby;
  /// Our roster went out since it was registered or dropped: we tell it
  /// what happens here.
  bool introduced = false;
  /// Its roster arrived since then: its clients are in `remote`, and we
  /// heed its messages. Both are false after a loss, or after we dropped
  /// it for its backlog (or it dropped us), until rosters link it again.
  bool known = false;
  /// Bytes sent to it and acknowledged by it; received from it and
  /// acknowledged by us. Cumulative for as long as it stays registered.
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t received = 0;
  uint64_t received_acked = 0;
  /// Backoff before introducing us again after a drop.
  caf::timespan retry = std::chrono::milliseconds{500};
};

struct lobby_state {
  static inline const char* name = "lobby";

  lobby_config config;
  client_id next_id = 1;
  /// False while a node that has peers waits for their numbers; the
  /// handshakes meanwhile wait here, in order.
  bool numbering = true;
  std::vector<std::pair<session_actor, client_link_ptr>> waiting;
  /// The clients of this node.
  std::map<client_id, member> members;
  /// The clients of the other nodes, with how many of them are in a
  /// private chat.
  remote_roster remote;
  /// How many members are in a private chat: the main room is everyone
  /// else, here and there (see `main_room_size`).
  size_t members_in_private = 0;
  /// The same clients by session, for their down messages.
  std::unordered_map<caf::actor_addr, client_id> by_session;
  /// The private pairs this lobby started and that still run.
  std::unordered_map<caf::actor_addr, private_pair_actor> pairs;
  /// Those of them whose chat this lobby ended on its side already (their
  /// other member's node was lost): a room message still on its way from
  /// one of them changes nothing.
  std::unordered_set<caf::actor_addr> ended_pairs;
  /// The other nodes' lobbies, by node and by address.
  std::map<node_index, peer> peers;
  std::unordered_map<caf::actor_addr, node_index> by_peer;
  /// The highest number each node is known to have handed out (entry K-1
  /// for node K); survives the loss of that node.
  client_ids highest;
  /// The main room's links on this node, ordered by number; built by the
  /// first line after the room changed (null until then), so that a line
  /// is one hand-off and large-room arrivals cost no rebuild each. Lines
  /// in flight keep their own copy.
  link_group room;
  /// One pager per client that is paging anywhere in the cluster, keyed by
  /// that client; it pages the clients of this node.
  std::map<client_id, pager_actor> pagers;
  /// Large-room arrivals and departures not yet summed up: a summary is due
  /// (its timer armed) while either is not 0.
  size_t arrivals = 0;
  size_t departures = 0;
};

/// Owns the node's membership: hands out client numbers, relays main-room
/// lines, starts private pairs and pagers, and answers `/who`; and, in a
/// cluster, keeps the other nodes' lobbies told and hears theirs (peer
/// messages, actors/lobby_peers.cpp). Publishes its figures to
/// `config.stats`.
lobby_actor::behavior_type
lobby(lobby_actor::stateful_pointer<lobby_state> self, lobby_config config);

} // namespace chat

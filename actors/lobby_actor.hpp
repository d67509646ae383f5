#pragma once

#include <cstddef>
#include <map>
#include <unordered_map>

#include <caf/actor_addr.hpp>
#include <caf/timespan.hpp>

#include "actors/chat_stats.hpp"
#include "actors/interfaces.hpp"

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
};

/// One connected client as the lobby sees it.
struct member {
  session_actor session;
  client_link_ptr link;
  /// The private chat this client is in; invalid while in the main room.
  /// The same fact as its entry in `lobby_state::chats`, kept here too for
  /// the per-line look-up; start_chat and end_chat write both.
  private_pair_actor pair;
};

/// A private chat the lobby started and that has not ended yet.
struct private_chat {
  client_id inviter;
  client_id invitee;
};

struct lobby_state {
  static inline const char* name = "lobby";

  lobby_config config;
  client_id next_id = 1;
  /// Every connected client. Each chat in `chats` has both its members here
  /// until it has ended, so the main room is everyone else (see
  /// `main_room_size` in lobby_actor.cpp).
  std::map<client_id, member> members;
  /// The same clients by session, for their down messages.
  std::unordered_map<caf::actor_addr, client_id> by_session;
  /// The private chats started and not yet ended, by pair.
  std::unordered_map<caf::actor_addr, private_chat> chats;
  /// The main room's links, ordered by number; built by the first line
  /// after the room changed (null until then), so that a line is one
  /// hand-off and large-room arrivals cost no rebuild each. Lines in flight
  /// keep their own copy.
  link_group room;
  /// One pager per client that is paging, keyed by that client.
  std::map<client_id, pager_actor> pagers;
  /// Large-room arrivals and departures not yet summed up: a summary is due
  /// (its timer armed) while either is not 0.
  size_t arrivals = 0;
  size_t departures = 0;
};

/// Owns the node's membership: hands out client numbers, relays main-room
/// lines, starts private pairs and pagers, and answers `/who`. Publishes
/// deliveries, running pages and private chats to `config.stats`.
lobby_actor::behavior_type
lobby(lobby_actor::stateful_pointer<lobby_state> self, lobby_config config);

} // namespace chat

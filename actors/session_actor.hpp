#pragma once

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"

namespace chat {

/// The state of one connected client.
struct session_state {
  static inline const char* name = "session";

  client_link_ptr link;
  lobby_actor lobby;
  /// Its number, from the lobby's welcome; 0 while waiting for it.
  client_id id = 0;
  /// The private chat this client is in; invalid while in the main room.
  private_pair_actor pair;
  caf::actor_clock::time_point connected_at;
};

/// Speaks for one client: parses each frame into a command, stamps chat lines
/// with the seconds since the client connected, and hands them to the lobby,
/// or to its private pair while in one. `connected_at` is when the
/// handshake completed, on the actor clock: a busy node may start the actor
/// a little later, and the stamps must not drift by that.
session_actor::behavior_type
session(session_actor::stateful_pointer<session_state> self,
        client_link_ptr link, lobby_actor lobby,
        caf::actor_clock::time_point connected_at);

/// Starts the session of a client whose handshake has just completed and
/// introduces it to the lobby at once: the lobby numbers clients in the order
/// of these calls, not in the order their actors happen to start.
session_actor spawn_session(caf::actor_system& sys, client_link_ptr link,
                            lobby_actor lobby);

} // namespace chat

#pragma once

#include <chrono>
#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "actors/chat_stats.hpp"
#include "actors/interfaces.hpp"

namespace chat {

/// Told to a sender whose private line reached a pair that had ended (the
/// line is not rerouted anywhere).
inline const char* const line_lost_error
  = "Error: the private chat ended before your line was delivered";

/// How long a private line may take to reach its pair, which may be on
/// another node; past it the sender is told the line is lost.
constexpr caf::timespan private_line_timeout = std::chrono::seconds{10};

/// Hands `line` from client `from` to its private chat `pair`. A pair that
/// has ended meanwhile reroutes nothing: the line reaches nobody and
/// `tell_sender` receives `line_lost_error` for the sender. Sessions and the
/// lobby both hand lines to pairs; this is the rule for both.
template <class Self, class TellSender>
void say_in_private(Self self, const private_pair_actor& pair, client_id from,
                    std::string line, TellSender tell_sender) {
  self->request(pair, private_line_timeout, say_atom_v, from, std::move(line))
    .then([](caf::ok_atom) {},
          [tell_sender](caf::error&) { tell_sender(line_lost_error); });
}

/// One side of a private chat: the client and the lobby of its node, the
/// only one that writes to the client.
struct pair_member {
  client_id id;
  peer_actor home;
};

struct private_pair_state {
  static inline const char* name = "private_pair";

  pair_member a;
  pair_member b;
  chat_stats_ptr stats;
};

/// Owns one private chat: has both members' lobbies move them in (and tell
/// them whom they are chatting with), relays each line to the other member
/// only (counting it in `stats->deliveries`), and has both lobbies move
/// them out when it ends. Never touches a session or a link itself, so it
/// works the same whether its members are on its node or another.
private_pair_actor::behavior_type
private_pair(private_pair_actor::stateful_pointer<private_pair_state> self,
             pair_member inviter, pair_member invitee, chat_stats_ptr stats);

} // namespace chat

#pragma once

#include "actors/chat_stats.hpp"
#include "actors/interfaces.hpp"

namespace chat {

/// Told to a sender whose private line reached a pair that had ended (the
/// line is not rerouted anywhere).
inline const char* const line_lost_error
  = "Error: the private chat ended before your line was delivered";

/// One side of a private chat.
struct pair_member {
  client_id id;
  session_actor session;
  client_link_ptr link;
};

struct private_pair_state {
  static inline const char* name = "private_pair";

  pair_member a;
  pair_member b;
  chat_stats_ptr stats;
};

/// Owns one private chat: tells both members whom they are chatting with,
/// relays each line to the other member only (counting it in
/// `stats->deliveries`), and tells both when it ends.
private_pair_actor::behavior_type
private_pair(private_pair_actor::stateful_pointer<private_pair_state> self,
             pair_member inviter, pair_member invitee, chat_stats_ptr stats);

} // namespace chat

#pragma once

// The vocabulary of every message: numbers and atoms. The types that travel
// between nodes are registered at the end of actors/interfaces.hpp.

#include <cstdint>
#include <vector>

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "actors/client_link.hpp"

namespace chat {

/// A client's number, unique in the cluster: node K of a cluster of M slots
/// hands out K, K+M, K+2M, … (1, 2, 3, … on a node of its own).
using client_id = uint64_t;

/// A node's place in the cluster, 1 to the cluster's slot count.
using node_index = uint32_t;

/// Some clients' numbers, as one node tells another.
using client_ids = std::vector<client_id>;

} // namespace chat

// bridge -> session
CAF_ADD_ATOM(chat, chat, text_atom, "text")
CAF_ADD_ATOM(chat, chat, binary_atom, "binary")
CAF_ADD_ATOM(chat, chat, closed_atom, "closed")

// pair -> session, lobby -> session
CAF_ADD_ATOM(chat, chat, room_atom, "room")
CAF_ADD_ATOM(chat, chat, welcome_atom, "welcome")

// session -> lobby, session -> pair, lobby -> pair
CAF_ADD_ATOM(chat, chat, hello_atom, "hello")
CAF_ADD_ATOM(chat, chat, say_atom, "say")
CAF_ADD_ATOM(chat, chat, typed_atom, "typed")
CAF_ADD_ATOM(chat, chat, page_atom, "page")
CAF_ADD_ATOM(chat, chat, invite_atom, "invite")
CAF_ADD_ATOM(chat, chat, leave_atom, "leave")
CAF_ADD_ATOM(chat, chat, who_atom, "who")
CAF_ADD_ATOM(chat, chat, end_atom, "end")

// lobby -> pager, timers
CAF_ADD_ATOM(chat, chat, add_atom, "add")
CAF_ADD_ATOM(chat, chat, remove_atom, "remove")
CAF_ADD_ATOM(chat, chat, tick_atom, "tick")
CAF_ADD_ATOM(chat, chat, summary_atom, "summary")

// lobby <-> lobby of another node, pair -> lobby: every such message starts
// with peer_atom, so that it never looks like one from a session
CAF_ADD_ATOM(chat, chat, peer_atom, "peer")
CAF_ADD_ATOM(chat, chat, roster_atom, "roster")
CAF_ADD_ATOM(chat, chat, joined_atom, "joined")
CAF_ADD_ATOM(chat, chat, left_atom, "left")
CAF_ADD_ATOM(chat, chat, private_atom, "private")
CAF_ADD_ATOM(chat, chat, relay_atom, "relay")
CAF_ADD_ATOM(chat, chat, tell_atom, "tell")
CAF_ADD_ATOM(chat, chat, ack_atom, "ack")
CAF_ADD_ATOM(chat, chat, drop_atom, "drop")
CAF_ADD_ATOM(chat, chat, linked_atom, "linked")
CAF_ADD_ATOM(chat, chat, ready_atom, "ready")

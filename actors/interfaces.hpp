#pragma once

// The typed interfaces of every actor: who may say what to whom.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/messages.hpp"

namespace chat {

/// A private chat between two clients, on the node of one of them. Its
/// messages cross nodes, so they carry plain strings.
using private_pair_actor = caf::typed_actor<
  // A stamped line from one member, for the other member only.
  caf::replies_to<say_atom, client_id, std::string>::with<caf::ok_atom>,
  // Ends the chat; the client number is a member that is gone (or 0).
  // Replies once both members' lobbies have been told.
  caf::replies_to<end_atom, client_id>::with<caf::ok_atom>>;

/// What a lobby tells the lobby of another node, and what a private pair
/// tells the lobby of each member: only numbers, strings and handles cross
/// nodes (see CLUSTER.md). The lobbies of a cluster are linked by
/// cluster/peer_links; each knows the others' clients from these messages.
using peer_actor = caf::typed_actor<
  // The first message on a link, each way: the sender's node, its clients,
  // those of them in a private chat, those paging, and the highest number
  // the sender knows each node handed out (entry K-1 for node K).
  caf::reacts_to<peer_atom, roster_atom, node_index, client_ids, client_ids,
                 client_ids, client_ids>,
  // A client of the sender connected, disconnected, entered (true) or left
  // (false) a private chat.
  caf::reacts_to<peer_atom, joined_atom, client_id>,
  caf::reacts_to<peer_atom, left_atom, client_id>,
  caf::reacts_to<peer_atom, private_atom, client_id, bool>,
  // A main-room line of a client of the sender, stamped: once per node,
  // each node fans it out to its own main room.
  caf::reacts_to<peer_atom, relay_atom, client_id, std::string>,
  // Any other frame of a client of the sender, while pages run: it stops
  // every other client's page.
  caf::reacts_to<peer_atom, typed_atom, client_id>,
  // A client of the sender started paging: page ours too.
  caf::reacts_to<peer_atom, page_atom, client_id>,
  // A client of the sender invites one of ours (its number, ours, the
  // argument as typed). Replies "" when the private chat starts, else the
  // error line for the inviter.
  caf::replies_to<peer_atom, invite_atom, client_id, client_id,
                  std::string>::with<std::string>,
  // The sender has received this many bytes from us, in all: its backlog
  // toward us is what we sent beyond that.
  caf::reacts_to<peer_atom, ack_atom, uint64_t>,
  // The sender dropped the link to us (we fell too far behind): treat it
  // as lost until its next roster.
  caf::reacts_to<peer_atom, drop_atom>,
  // From a private pair: our client (first number) is now chatting with
  // the second, through this pair; a line for our client; its chat ended.
  caf::reacts_to<peer_atom, room_atom, client_id, private_pair_actor,
                 client_id>,
  caf::reacts_to<peer_atom, tell_atom, client_id, std::string>,
  caf::reacts_to<peer_atom, end_atom, client_id, private_pair_actor>>;

/// One connected client. Fed by the bridge; writes to its client_link.
using session_actor = caf::typed_actor<
  // A text frame the client sent.
  caf::reacts_to<text_atom, std::string>,
  // A binary frame the client sent (not supported; answered with an error).
  caf::reacts_to<binary_atom>,
  // The connection is gone.
  caf::reacts_to<closed_atom>,
  // The lobby has numbered this client; frames wait for it.
  caf::reacts_to<welcome_atom, client_id>,
  // From now on chat lines go to this private chat (invalid: the main room).
  caf::reacts_to<room_atom, private_pair_actor>>;

/// Owns membership, the main room, private pairs and pagers. Every message
/// from a session names the session's client number first and stands for
/// one frame of that client, so it also stops other clients' pages. It is
/// also a peer_actor for the other nodes' lobbies.
using lobby_actor = caf::typed_actor<
  // A new session, sent as its handshake completes so that numbers follow
  // the order of handshakes; the lobby answers the session with `welcome`.
  caf::reacts_to<hello_atom, session_actor, client_link_ptr>,
  // A main-room chat line, already stamped and made terminal-safe.
  caf::reacts_to<say_atom, client_id, shared_text>,
  // Any other frame (blank line, private line, /help, errors, a binary
  // frame): it only stops other clients' pages.
  caf::reacts_to<typed_atom, client_id>,
  // `page`: PAGING to every other client until one of them sends a frame.
  caf::reacts_to<page_atom, client_id>,
  // `invite`: the target's number (0 when the argument names no number) and
  // the argument, terminal-safe, for the error line.
  caf::reacts_to<invite_atom, client_id, client_id, std::string>,
  // `leave`: ends the sender's private chat.
  caf::reacts_to<leave_atom, client_id>,
  // `/who`: the sender gets the list of who is online.
  caf::reacts_to<who_atom, client_id>,
  // Timer: send the large-room arrivals/departures summary.
  caf::reacts_to<summary_atom>,
  // From cluster/peer_links: the lobby of node K is linked; introduce us.
  caf::reacts_to<linked_atom, node_index, peer_actor>,
  // Timer: stop waiting for the cluster's numbers and number clients.
  caf::reacts_to<ready_atom>,
  // Timer: introduce us again to a peer we dropped.
  caf::reacts_to<drop_atom, node_index>>::extend_with<peer_actor>;

/// Sends PAGING to a set of clients once per interval until stopped.
using pager_actor = caf::typed_actor<
  // A client that connected while the page runs: page it too.
  caf::reacts_to<add_atom, client_id, client_link_ptr>,
  // A client that disconnected: page it no more.
  caf::reacts_to<remove_atom, client_id>,
  // Timer: PAGING to every recipient again.
  caf::reacts_to<tick_atom>>;

} // namespace chat

// Links and shared payloads are process-local pointers, never serialized:
// nothing that carries them crosses nodes.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::shared_text)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::client_link_ptr)

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(chat, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(chat, (chat::shared_text))
  CAF_ADD_TYPE_ID(chat, (chat::client_link_ptr))

  // What crosses nodes, besides numbers and strings.
  CAF_ADD_TYPE_ID(chat, (chat::client_ids))
  CAF_ADD_TYPE_ID(chat, (chat::private_pair_actor))
  CAF_ADD_TYPE_ID(chat, (chat::peer_actor))
  CAF_ADD_TYPE_ID(chat, (chat::session_actor))
  CAF_ADD_TYPE_ID(chat, (chat::lobby_actor))

CAF_END_TYPE_ID_BLOCK(chat)
// clang-format on

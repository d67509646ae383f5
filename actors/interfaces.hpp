#pragma once

// The typed interfaces of every actor: who may say what to whom.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/messages.hpp"

namespace chat {

/// A private chat between two clients.
using private_pair_actor = caf::typed_actor<
  // A stamped line from one member, for the other member only.
  caf::replies_to<say_atom, client_id, shared_text>::with<caf::ok_atom>,
  // Ends the chat; the client number is a member that is gone (or 0). Replies
  // once both members have been told.
  caf::replies_to<end_atom, client_id>::with<caf::ok_atom>>;

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
/// one frame of that client, so it also stops other clients' pages.
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
  caf::reacts_to<summary_atom>>;

/// Sends PAGING to a set of clients once per interval until stopped.
using pager_actor = caf::typed_actor<
  // A client that connected while the page runs: page it too.
  caf::reacts_to<add_atom, client_id, client_link_ptr>,
  // A client that disconnected: page it no more.
  caf::reacts_to<remove_atom, client_id>,
  // Timer: PAGING to every recipient again.
  caf::reacts_to<tick_atom>>;

} // namespace chat

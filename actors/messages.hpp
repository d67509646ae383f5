#pragma once

// The type-ID block: every atom and every type that travels in a message.

#include <cstdint>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/type_id.hpp>

#include "actors/client_link.hpp"

namespace chat {

/// A client's number: 1 for the first session of the process, never reused.
using client_id = uint64_t;

} // namespace chat

// Links and shared payloads are process-local pointers, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::shared_text)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::client_link_ptr)

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(chat, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(chat, (chat::shared_text))
  CAF_ADD_TYPE_ID(chat, (chat::client_link_ptr))

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

CAF_END_TYPE_ID_BLOCK(chat)
// clang-format on

// Protocol sketch:
//   waiting:   spawn_session tells the lobby, from the thread that saw the
//              handshake, so numbers follow handshake order; frames wait
//              (skipped, kept in the mailbox) until the lobby's welcome
//              brings the number, then the session is chatting
//   chatting:  a text line is parsed; chat lines are stamped `<S> <line>`
//              and made terminal-safe here, once, before anyone fans them out
//   room:      the pair says where chat lines go; it says so before it tells
//              the client, so a line typed after the client saw `Private
//              chatting with …` can only reach the partner. A private line
//              that reaches an ended pair is reported back, never rerouted.
//   closed:    quit; the lobby monitors sessions and cleans up

#include "actors/session_actor.hpp"

#include <chrono>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command.hpp"
#include "actors/private_pair_actor.hpp"
#include "actors/text.hpp"

namespace chat {

const char* const help_lines[] = {
  "Commands:",
  "  page        page everyone once a second until someone else types",
  "  invite <N>  private chat with Client N (also: invite Client N)",
  "  leave       end the private chat",
  "  /who        who is online",
  "  /help       this list",
  "Any other line is a chat message.",
};

namespace {

using session_ptr = session_actor::stateful_pointer<session_state>;

// Sends one line to this session's client only.
void reply(session_ptr self, std::string line) {
  self->state.link->send(make_text(std::move(line)));
}

// Returns the line as others see it: `<S> <line>`.
std::string stamp(session_ptr self, std::string_view line) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  auto age = self->clock().now() - self->state.connected_at;
  auto secs = duration_cast<seconds>(age).count();
  return std::to_string(secs) + ' ' + make_terminal_safe(line);
}

void say(session_ptr self, const std::string& line) {
  auto& st = self->state;
  if (!st.pair) {
    self->send(st.lobby, say_atom_v, st.id, make_text(stamp(self, line)));
    return;
  }
  say_in_private(self, st.pair, st.id, stamp(self, line),
                 [self](std::string x) { reply(self, std::move(x)); });
  self->send(st.lobby, typed_atom_v, st.id);
}

void on_line(session_ptr self, const std::string& line) {
  auto& st = self->state;
  auto cmd = parse_command(line);
  switch (cmd.kind) {
    case command::say:
      say(self, line);
      return;
    case command::page:
      self->send(st.lobby, page_atom_v, st.id);
      return;
    case command::invite:
      self->send(st.lobby, invite_atom_v, st.id, cmd.target,
                 make_terminal_safe(cmd.arg));
      return;
    case command::leave:
      self->send(st.lobby, leave_atom_v, st.id);
      return;
    case command::who:
      self->send(st.lobby, who_atom_v, st.id);
      return;
    case command::invite_usage:
      reply(self, "Usage: invite <N>");
      break;
    case command::help:
      for (auto help_line : help_lines)
        reply(self, help_line);
      break;
    case command::unknown:
      reply(self, "Error: unknown command: /" + make_terminal_safe(cmd.arg)
                    + " (try /help)");
      break;
    case command::blank:
      break;
  }
  // Any frame counts as typing: it stops other clients' pages.
  self->send(st.lobby, typed_atom_v, st.id);
}

// Knows its number: handles each frame as it comes.
session_actor::behavior_type chatting(session_ptr self) {
  return {
    // The lobby welcomes each session once.
    [](welcome_atom, client_id) {},
    [self](text_atom, const std::string& line) { on_line(self, line); },
    [self](binary_atom) {
      reply(self, "Error: binary frames are not supported");
      self->send(self->state.lobby, typed_atom_v, self->state.id);
    },
    [self](room_atom, private_pair_actor& pair) {
      self->state.pair = std::move(pair);
    },
    [self](closed_atom) { self->quit(); },
  };
}

// Waits for its number; what the client sends meanwhile waits too, in
// order, in the mailbox.
session_actor::behavior_type waiting(session_ptr self) {
  return {
    [self](welcome_atom, client_id id) {
      self->state.id = id;
      self->become(chatting(self));
    },
    [](text_atom, const std::string&) -> caf::result<void> {
      return caf::skip;
    },
    [](binary_atom) -> caf::result<void> { return caf::skip; },
    // Only a numbered client can be invited, so no pair comes first; were
    // one to, it would wait for the number as well.
    [](room_atom, private_pair_actor&) -> caf::result<void> {
      return caf::skip;
    },
    [self](closed_atom) { self->quit(); },
  };
}

} // namespace

session_actor::behavior_type
session(session_ptr self, client_link_ptr link, lobby_actor lobby,
        caf::actor_clock::time_point connected_at) {
  auto& st = self->state;
  st.link = std::move(link);
  st.lobby = std::move(lobby);
  st.connected_at = connected_at;
  return waiting(self);
}

session_actor spawn_session(caf::actor_system& sys, client_link_ptr link,
                            lobby_actor lobby) {
  auto connected_at = sys.clock().now();
  auto self = sys.spawn(session, link, lobby, connected_at);
  caf::anon_send(lobby, hello_atom_v, self, std::move(link));
  return self;
}

} // namespace chat

#pragma once

#include <string>
#include <string_view>

#include "actors/messages.hpp"

namespace chat {

/// What one line the user typed asks for.
struct command {
  enum kind_t {
    say,          ///< a chat line
    blank,        ///< empty or only white space: not relayed
    page,         ///< `page`
    invite,       ///< `invite <arg>`
    invite_usage, ///< `invite` without an argument
    leave,        ///< `leave`
    help,         ///< `/help`
    who,          ///< `/who`
    unknown,      ///< a slash command we do not know
  };

  kind_t kind;

  /// For `invite`: the argument as typed (trimmed). For `unknown`: the word
  /// after the slash.
  std::string arg;

  /// For `invite`: the client number the argument names, or 0 if none.
  client_id target = 0;
};

/// Parses one line. Commands are the whole trimmed line and case-sensitive;
/// slash commands ignore anything after their first word.
command parse_command(std::string_view line);

/// Returns the client number in `invite` arguments such as `2` or `Client 2`,
/// or 0 if `arg` names no number.
client_id parse_client_number(std::string_view arg);

} // namespace chat

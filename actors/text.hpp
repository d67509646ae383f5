#pragma once

#include <string>
#include <string_view>

namespace chat {

/// Returns `str` without leading and trailing white space.
std::string_view trim(std::string_view str);

/// Returns `str` (valid UTF-8) with every control character that could steer
/// a terminal replaced by U+FFFD: C0 except tab, DEL and C1. That removes the
/// introducer of every ANSI escape sequence.
std::string make_terminal_safe(std::string_view str);

} // namespace chat

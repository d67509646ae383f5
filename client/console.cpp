#include "client/console.hpp"

#include <unistd.h>

#include "client/line_io.hpp"
#include "client/terminal.hpp"

namespace client {

std::unique_ptr<console> make_console(asio::io_context& io) {
  if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
    return std::make_unique<terminal>(io);
  return std::make_unique<line_io>(io);
}

std::string frame_line(std::string_view frame) {
  constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
  std::string out = "< ";
  out.reserve(out.size() + frame.size());
  for (size_t i = 0; i < frame.size(); ++i) {
    auto c = static_cast<unsigned char>(frame[i]);
    auto next = i + 1 < frame.size() ? static_cast<unsigned char>(frame[i + 1])
                                     : 0u;
    if (c == '\n') {
      out += "\n  ";
    } else if (c == '\r' && next == '\n') {
      // CR LF is one line break.
    } else if (c == '\t') {
      out += '\t';
    } else if (c < 0x20 || c == 0x7F) {
      out += replacement;
    } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {
      // A C1 control character, U+0080..U+009F, two bytes in UTF-8.
      out += replacement;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace client

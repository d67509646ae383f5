#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

namespace client {

/// Where typed lines come from and where received frames and the client's
/// own notices go: a terminal with line editing, or plain lines for scripts.
/// Every member function runs on the Asio thread.
class console {
public:
  using line_handler = std::function<void(std::string)>;
  using end_handler = std::function<void()>;

  virtual ~console() = default;

  /// True when a person types at a terminal: prompt, editing, history.
  virtual bool interactive() const = 0;

  /// Starts reading: each complete line goes to `on_line` (without its line
  /// break), the end of input to `on_end`, once.
  virtual void start(line_handler on_line, end_handler on_end) = 0;

  /// Shows one received frame as `< frame`.
  virtual void show_frame(std::string_view frame) = 0;

  /// Tells the user something about the client itself (on stderr).
  virtual void notice(std::string_view text) = 0;

  /// Stops reading and gives the terminal back as it was. Idempotent;
  /// show_frame and notice keep working, without a prompt.
  virtual void stop() = 0;
};

/// A terminal console when stdin and stdout are both terminals, else plain
/// lines.
std::unique_ptr<console> make_console(asio::io_context& io);

/// `< ` + frame, made safe to print: control characters (C0 but tab, DEL,
/// C1) become U+FFFD, and each line break inside the frame starts a line
/// indented by two spaces, so every frame still starts with `< `.
std::string frame_line(std::string_view frame);

} // namespace client

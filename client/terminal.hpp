#pragma once

#include <cstdio>

#include <asio/signal_set.hpp>

#include "client/console.hpp"
#include "client/stdin_watch.hpp"

namespace client {

/// A person at a terminal: GNU readline's callback interface, driven by the
/// Asio loop, gives the prompt, line editing and history. Frames and
/// notices print above the line being typed, which is then redrawn intact.
/// The only part of the client that knows about the terminal; one at a
/// time, as readline is one per process.
class terminal : public console {
public:
  explicit terminal(asio::io_context& io);

  ~terminal() override;

  bool interactive() const override {
    return true;
  }

  void start(line_handler on_line, end_handler on_end) override;

  void show_frame(std::string_view frame) override;

  void notice(std::string_view text) override;

  void stop() override;

private:
  // Readline's line handler: a finished line, or nullptr at end of input.
  static void on_readline(char* line);

  void wait_for_key();
  void wait_for_resize();
  void print_above(std::FILE* out, std::string_view text);

  stdin_watch input_;
  asio::signal_set winch_;
  /// Readline owns the terminal and shows the prompt.
  bool active_ = false;
  /// Inside on_readline, where readline has already moved to a new line.
  bool in_handler_ = false;
  line_handler on_line_;
  end_handler on_end_;

  static terminal* current_;
};

} // namespace client

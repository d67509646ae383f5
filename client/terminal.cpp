#include "client/terminal.hpp"

#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <langinfo.h>

#include <readline/history.h>
#include <readline/readline.h>

namespace client {

terminal* terminal::current_ = nullptr;

namespace {

// Chat text is UTF-8: edit and show it as such, also in the C locale.
void use_utf8_locale() {
  std::setlocale(LC_CTYPE, "");
  if (std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
    std::setlocale(LC_CTYPE, "C.UTF-8");
}

void write_line(std::FILE* out, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

} // namespace

terminal::terminal(asio::io_context& io) : input_(io), winch_(io, SIGWINCH) {
  use_utf8_locale();
}

terminal::~terminal() {
  stop();
}

void terminal::start(line_handler on_line, end_handler on_end) {
  on_line_ = std::move(on_line);
  on_end_ = std::move(on_end);
  current_ = this;
  rl_readline_name = "chat-client"; // for `$if chat-client` in ~/.inputrc
  // The Asio loop owns the signals: Ctrl-C ends the client, SIGWINCH comes
  // back to us below.
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  rl_change_environment = 0;
  // Tab is text here, not file name completion.
  rl_inhibit_completion = 1;
  rl_instream = stdin;
  rl_outstream = stdout;
  // A pasted block is several chat lines, one frame each, not one line.
  rl_variable_bind("enable-bracketed-paste", "off");
  rl_callback_handler_install("> ", &terminal::on_readline);
  active_ = true;
  wait_for_key();
  wait_for_resize();
}

void terminal::show_frame(std::string_view frame) {
  print_above(stdout, frame_line(frame));
}

void terminal::notice(std::string_view text) {
  print_above(stderr, std::string{"chat-client: "}.append(text));
}

void terminal::stop() {
  if (!active_)
    return;
  active_ = false;
  input_.stop();
  std::error_code ec;
  winch_.cancel(ec);
  if (!in_handler_) {
    // Keep a half-typed line on screen; take an empty prompt away.
    if (rl_end > 0)
      rl_crlf();
    else
      rl_clear_visible_line();
  }
  rl_callback_handler_remove();
  std::fflush(stdout);
  current_ = nullptr;
}

void terminal::on_readline(char* line) {
  auto* self = current_;
  if (self == nullptr) {
    std::free(line);
    return;
  }
  self->in_handler_ = true;
  if (line == nullptr) {
    // Ctrl-D on an empty line. Readline stays on the prompt's line.
    std::fputc('\n', stdout);
    self->stop();
    self->in_handler_ = false;
    self->on_end_();
    return;
  }
  std::string text{line};
  std::free(line);
  // Up and down walk through the lines sent before; repeats are kept once.
  if (!text.empty()) {
    auto* last = history_length > 0
                   ? history_get(history_base + history_length - 1)
                   : nullptr;
    if (last == nullptr || text != last->line)
      add_history(text.c_str());
  }
  self->on_line_(std::move(text));
  self->in_handler_ = false;
}

void terminal::wait_for_key() {
  input_.async_wait([this] {
    if (!active_)
      return;
    rl_callback_read_char();
    if (active_)
      wait_for_key();
  });
}

void terminal::wait_for_resize() {
  winch_.async_wait([this](std::error_code ec, int) {
    if (ec || !active_)
      return;
    rl_resize_terminal();
    wait_for_resize();
  });
}

void terminal::print_above(std::FILE* out, std::string_view text) {
  if (!active_ || in_handler_) {
    // No prompt on screen: readline is not running, or has just finished
    // a line and moved to the next.
    write_line(out, text);
    return;
  }
  rl_clear_visible_line();
  std::fflush(rl_outstream);
  write_line(out, text);
  rl_on_new_line();
  rl_redisplay();
}

} // namespace client

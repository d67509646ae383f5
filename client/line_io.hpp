#pragma once

#include "client/console.hpp"
#include "client/stdin_watch.hpp"

namespace client {

/// Plain lines for scripts and pipes: no prompt and no escape codes; each
/// frame on its own line on stdout, notices on stderr.
class line_io : public console {
public:
  explicit line_io(asio::io_context& io);

  bool interactive() const override {
    return false;
  }

  void start(line_handler on_line, end_handler on_end) override;

  void show_frame(std::string_view frame) override;

  void notice(std::string_view text) override;

  void stop() override;

private:
  void read_some();

  stdin_watch input_;
  bool reading_ = false;
  /// What came after the last line break so far.
  std::string partial_;
  line_handler on_line_;
  end_handler on_end_;
};

} // namespace client

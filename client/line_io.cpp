#include "client/line_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <unistd.h>

namespace client {

line_io::line_io(asio::io_context& io) : input_(io) {
  // Each frame reaches a pipe as soon as it arrives.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

void line_io::start(line_handler on_line, end_handler on_end) {
  on_line_ = std::move(on_line);
  on_end_ = std::move(on_end);
  reading_ = true;
  input_.async_wait([this] { read_some(); });
}

void line_io::show_frame(std::string_view frame) {
  auto line = frame_line(frame);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void line_io::notice(std::string_view text) {
  std::fprintf(stderr, "chat-client: %.*s\n", static_cast<int>(text.size()),
               text.data());
}

void line_io::stop() {
  reading_ = false;
  input_.stop();
}

void line_io::read_some() {
  if (!reading_)
    return;
  char buf[4096];
  auto n = ::read(STDIN_FILENO, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    input_.async_wait([this] { read_some(); });
    return;
  }
  if (n <= 0) {
    // End of input; a last line without a line break still counts.
    if (n < 0)
      notice(std::string{"cannot read input: "} + std::strerror(errno));
    if (!partial_.empty())
      on_line_(std::exchange(partial_, {}));
    if (reading_) {
      stop();
      on_end_();
    }
    return;
  }
  partial_.append(buf, static_cast<size_t>(n));
  size_t begin = 0;
  for (auto end = partial_.find('\n'); end != std::string::npos && reading_;
       end = partial_.find('\n', begin)) {
    auto line = partial_.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    on_line_(std::move(line));
  }
  partial_.erase(0, begin);
  if (reading_)
    input_.async_wait([this] { read_some(); });
}

} // namespace client

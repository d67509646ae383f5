#include "client/stdin_watch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <asio/post.hpp>

namespace client {

stdin_watch::stdin_watch(asio::io_context& io) : io_(io), input_(io) {
  // Asio makes the descriptor non-blocking, which changes the open file
  // stdin shares with the shell: remember the flags to put them back.
  saved_flags_ = fcntl(STDIN_FILENO, F_GETFL);
  int fd = dup(STDIN_FILENO);
  std::error_code ec;
  if (fd < 0)
    always_ready_ = true; // a read then says why
  else if (input_.assign(fd, ec); ec) {
    close(fd);
    always_ready_ = true;
  }
}

stdin_watch::~stdin_watch() {
  stop();
}

void stdin_watch::async_wait(std::function<void()> ready) {
  if (stopped_)
    return;
  if (always_ready_) {
    asio::post(io_, [this, ready{std::move(ready)}] {
      if (!stopped_)
        ready();
    });
    return;
  }
  input_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this, ready{std::move(ready)}](std::error_code ec) {
                      if (ec == asio::error::operation_aborted || stopped_)
                        return;
                      if (ec == asio::error::operation_not_supported)
                        always_ready_ = true;
                      ready();
                    });
}

void stdin_watch::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  std::error_code ec;
  input_.close(ec);
  if (saved_flags_ != -1)
    fcntl(STDIN_FILENO, F_SETFL, saved_flags_);
}

} // namespace client

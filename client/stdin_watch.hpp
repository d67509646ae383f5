#pragma once

#include <functional>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace client {

/// Calls back whenever stdin has something to read (or has ended), on the
/// Asio loop, leaving the reading itself to the caller.
class stdin_watch {
public:
  explicit stdin_watch(asio::io_context& io);
  ~stdin_watch();

  stdin_watch(const stdin_watch&) = delete;
  stdin_watch& operator=(const stdin_watch&) = delete;

  /// Calls `ready` once, when a read of stdin would not block.
  void async_wait(std::function<void()> ready);

  /// Cancels the wait and restores stdin's file status flags.
  void stop();

private:
  asio::io_context& io_;
  asio::posix::stream_descriptor input_;
  int saved_flags_ = -1;
  /// epoll refuses regular files and /dev/null; reading them never blocks.
  bool always_ready_ = false;
  bool stopped_ = false;
};

} // namespace client

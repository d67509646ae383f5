#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "actors/client_link.hpp"

// Declared (opaque) in actors/client_link.hpp, defined here: actors pass
// sinks along with their links and never look inside.
namespace chat {

/// One client as the fan-out (net/fan_out.hpp) sees it: a queue of bytes
/// on the Asio thread, flushed once per turn. Every call comes from that
/// thread.
class link_sink {
public:
  /// Whether the client takes frames: open, not being dropped, and no write
  /// to it failed.
  virtual bool taking() const = 0;

  /// Bytes queued for the client and not yet written.
  virtual size_t backlog() const = 0;

  /// Appends whole frames; returns whether flush() must follow for them to
  /// leave (if not, a write in flight takes them along).
  virtual bool append(std::string_view frames) = 0;

  /// Writes what append() queued, unless a write is in flight.
  virtual void flush() = 0;

  /// Closes the client, which fell behind: 1008 with `why`.
  virtual void drop(const std::string& why) = 0;

protected:
  ~link_sink() = default;
};

} // namespace chat

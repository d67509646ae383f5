#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace chat {

/// One immutable text payload, shared by every recipient of a broadcast.
using shared_text = std::shared_ptr<const std::string>;

/// Wraps `str` as a payload that can be handed to many links.
inline shared_text make_text(std::string str) {
  return std::make_shared<const std::string>(std::move(str));
}

/// The way out to one client's socket. `net/` implements it; actors call it
/// from any thread, so implementations must be thread-safe and must never
/// block. Calls on a link whose connection is gone do nothing.
class client_link {
public:
  virtual ~client_link() = default;

  /// Queues one text frame for the client.
  virtual void send(shared_text text) = 0;
};

using client_link_ptr = std::shared_ptr<client_link>;

} // namespace chat

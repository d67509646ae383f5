#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chat {

/// One immutable text payload, shared by every recipient of a broadcast.
using shared_text = std::shared_ptr<const std::string>;

/// Wraps `str` as a payload that can be handed to many links.
inline shared_text make_text(std::string str) {
  return std::make_shared<const std::string>(std::move(str));
}

/// The transport's own end of a link, opaque to actors: defined in
/// net/link_sink.hpp.
/// A broadcaster of that transport reaches a group's clients through it
/// directly, on its own thread, without asking what kind of link it holds.
class link_sink;

/// The way out to one client's socket. `net/` implements it; actors call it
/// from any thread, so implementations must be thread-safe and must never
/// block. Calls on a link whose connection is gone do nothing.
class client_link {
public:
  virtual ~client_link() = default;

  /// Queues one text frame for the client.
  virtual void send(shared_text text) = 0;

  /// The transport's end of this link, or null: when its connection is
  /// gone, and for links of no transport (tests), which a broadcaster
  /// reaches through send() instead. Asked by the transport, on its own
  /// thread only.
  virtual std::shared_ptr<link_sink> sink() const {
    return nullptr;
  }
};

using client_link_ptr = std::shared_ptr<client_link>;

/// A fixed set of clients, such as the main room at one moment. Immutable
/// once built, so lines for it can travel to another thread with it.
using link_group = std::shared_ptr<const std::vector<client_link_ptr>>;

/// Sends one line to a group of clients. This one calls each link in turn;
/// `net/` hands the whole group to its thread in one step, so a broadcast
/// costs one hand-off instead of one per recipient.
class broadcaster {
public:
  virtual ~broadcaster() = default;

  /// Queues `text` for every link of `group` but `except` (may be null).
  virtual void broadcast(const link_group& group, const client_link* except,
                         const shared_text& text) {
    for (auto& link : *group)
      if (link.get() != except)
        link->send(text);
  }
};

using broadcaster_ptr = std::shared_ptr<broadcaster>;

} // namespace chat

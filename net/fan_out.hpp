#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>

#include "actors/client_link.hpp"
#include "net/bridge_stats.hpp"
#include "net/handoff.hpp"
#include "net/link_sink.hpp"

namespace net {

/// The outgoing path. Actors hand lines over from any thread; on the Asio
/// thread each turn's lines are framed and pushed into their recipients'
/// sinks, and every sink that got bytes is flushed once, after the turn.
///
///   hand_over()  any thread: a line for one client, or for a group
///   deliver()    Asio thread: frames the lines handed over since last turn
///   push()       Asio thread: frames into one sink, within its backlog cap
///   flush_all()  Asio thread: one write per sink that got bytes
///
/// Knows bytes and sinks, no socket and no chat rule.
class fan_out {
public:
  /// A client whose unsent bytes would pass `max_backlog_bytes` is dropped.
  /// `io` runs the Asio thread; `stats` must outlive this.
  fan_out(asio::io_context& io, size_t max_backlog_bytes, bridge_stats& stats);

  /// A line for one client: the link's own send(). Any thread; the link's
  /// sink() is asked on the Asio thread, so a connection's last owner is
  /// never an actor's.
  void hand_over(chat::client_link_ptr to, chat::shared_text text);

  /// A line for every client of `group` but `except` (may be null). Any
  /// thread. A link without a sink (of no transport, or gone) is asked to
  /// send() it itself.
  void hand_over(chat::link_group group, const chat::client_link* except,
                 chat::shared_text text);

  /// Queues `frames` for `to` and schedules its flush, unless it does not
  /// take frames or would pass its backlog cap (then it is dropped).
  /// Returns whether they were queued. Asio thread.
  bool push(const std::shared_ptr<chat::link_sink>& to,
            std::string_view frames);

private:
  /// A line for one client (`to`), or for a group but one (`group`).
  struct line {
    chat::client_link_ptr to;
    chat::link_group group;
    const chat::client_link* except = nullptr;
    chat::shared_text text;
  };

  void hand_over(line l);
  void deliver();
  size_t deliver_run(size_t first, size_t& sent);
  bool sent_one_of(const chat::client_link* link, size_t first,
                   size_t last) const;
  void flush_all();

  asio::io_context& io_;
  size_t max_backlog_bytes_;
  bridge_stats& stats_;
  handoff<line> handed_over_;
  /// The turn's lines, and the frames of one line or of one run of lines to
  /// the same group back to back, with where each frame starts (and the run
  /// ends); kept to reuse their capacity.
  std::vector<line> turn_;
  std::string framed_;
  std::vector<size_t> frame_starts_;
  /// Sinks with bytes and no write in flight; one posted flush_all() writes
  /// them all. Holding them keeps their connections alive until then.
  std::vector<std::shared_ptr<chat::link_sink>> unflushed_;
};

} // namespace net

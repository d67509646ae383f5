#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "net/bridge_stats.hpp"
#include "net/token_bucket.hpp"
#include "net/ws_types.hpp"

namespace net {

/// What read pacing keeps for each connection.
struct paced_reads {
  /// Paces the frames we pass on from this client.
  token_bucket tokens{0, 1, {}};
  /// Frames read but not yet passed on, while the client is paced.
  /// (A vector: unlike a deque it allocates nothing while empty, which is
  /// nearly always.)
  std::vector<ws_message_ptr> held;
  /// Passes on the next held frame when the bucket has a token again.
  std::unique_ptr<asio::steady_timer> resume;
  /// Set once this client went over its rate.
  bool rate_limited = false;
};

/// Passes each client's frames on at most at its rate. A faster client is
/// read later, never dropped: its frame waits, we stop reading its socket,
/// and TCP slows the sender down. Runs on the Asio thread.
class read_pacer {
public:
  /// Hands one frame on, to the client's session.
  using pass_on_fn
    = std::function<void(const ws_connection_ptr&, ws_message_ptr)>;

  /// `frames_per_second` 0: no limit. `stats` must outlive this.
  read_pacer(asio::io_context& io, double frames_per_second, double burst,
             bridge_stats& stats, pass_on_fn pass_on);

  /// Starts pacing a new connection at `now`.
  void start(ws_connection& con, std::chrono::steady_clock::time_point now);

  /// A frame from `con`, read at `now`: passed on now or held.
  void on_frame(const ws_connection_ptr& con, ws_message_ptr msg,
                std::chrono::steady_clock::time_point now);

  /// The connection is gone: what it sent before still counts, in order.
  void on_close(const ws_connection_ptr& con);

private:
  void release_held(const ws_connection_ptr& con);
  void wait_for_token(const ws_connection_ptr& con);

  asio::io_context& io_;
  double frames_per_second_;
  double burst_;
  bridge_stats& stats_;
  pass_on_fn pass_on_;
};

} // namespace net

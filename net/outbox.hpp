#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace net {

/// Orders the bytes that leave one socket. The bridge's frames for a
/// client gather in the outbox and leave in one write per flush, however
/// many lines a turn had; the transport's own writes (the handshake answer,
/// pings, pongs, the close frame) share the socket, one write at a time,
/// and every byte leaves in the order it was queued, whichever way it came.
///
/// Knows no socket: `Wire` (the derived class) does the writing.
/// - `wire.write_bytes(const std::string& bytes)` starts writing `bytes`
///   whole and calls `bytes_written(ec)` when done; `bytes` stays put
///   until then.
/// - `wire.write_theirs(Write w)` starts the transport's write `w` and,
///   when done, calls `theirs_written(ec, handler)` with `w`'s handler.
/// - `wire.refuse_theirs(Write w)` tells `w`'s handler that it failed.
/// - `wire.shut_down()` ends the socket so that the transport's read
///   fails.
template <class Wire, class Write>
class outbox {
public:
  /// Whether a write failed: nothing more leaves.
  bool broken() const {
    return broken_;
  }

  /// Whether nothing is queued or being written, ours or the transport's.
  bool idle() const {
    return writing_ == writer::none && queued_.empty() && !theirs_;
  }

  /// Bytes queued here and not yet written.
  size_t unsent_bytes() const {
    return queued_.size() + sending_.size();
  }

  /// Appends `bytes` (whole frames) unless broken(). Returns whether the
  /// caller must flush() for them to leave; if not, the write in flight
  /// takes them along when it is done.
  bool append(std::string_view bytes) {
    if (broken_)
      return false;
    bool idle = queued_.empty() && writing_ == writer::none;
    queued_.append(bytes);
    return idle;
  }

  /// Forgets what was appended and not yet handed to a write, for a client
  /// that is dropped: the write in flight (whole frames) finishes, and the
  /// transport's waiting write, or its next one (the close frame), leaves
  /// right after it instead of behind a backlog the client will never
  /// read. Returns the bytes forgotten.
  size_t discard() {
    auto forgotten = queued_.size();
    std::string{}.swap(queued_);
    if (theirs_)
      theirs_->after = 0;
    return forgotten;
  }

  /// Starts the next write unless one is in flight: what was queued, or as
  /// much of it as came before the transport's waiting write, then that.
  void flush() {
    if (writing_ != writer::none)
      return;
    if (theirs_ && theirs_->after == 0) {
      auto w = std::move(theirs_->write);
      theirs_.reset();
      writing_ = writer::theirs;
      wire().write_theirs(std::move(w));
      return;
    }
    if (queued_.empty())
      return;
    auto bytes = theirs_ ? theirs_->after : queued_.size();
    if (bytes == queued_.size()) {
      std::swap(queued_, sending_); // sending_ is empty here
    } else {
      sending_.assign(queued_, 0, bytes);
      queued_.erase(0, bytes);
    }
    if (theirs_)
      theirs_->after = 0;
    writing_ = writer::ours;
    wire().write_bytes(sending_);
  }

  /// The transport's write: now if the socket is idle, else after what is
  /// queued now (a close frame follows the last lines) but before what is
  /// queued later (a pong does not wait for a steady stream of lines). The
  /// transport has at most one write outstanding.
  void write(Write w) {
    if (writing_ == writer::none && queued_.empty()) {
      writing_ = writer::theirs;
      wire().write_theirs(std::move(w));
      return;
    }
    assert(!theirs_); // websocketpp has one write outstanding at most
    theirs_ = std::make_unique<waiting>(waiting{std::move(w), queued_.size()});
  }

protected:
  /// Our write of sending_ is done.
  void bytes_written(const std::error_code& ec) {
    // A busy client reuses the buffer; an idle one gives its memory back.
    if (queued_.empty())
      std::string{}.swap(sending_);
    else
      sending_.clear();
    writing_ = writer::none;
    if (ec) {
      fail();
      return;
    }
    flush();
  }

  /// The transport's write is done: tells its `handler` (which may write
  /// again), then writes what waits.
  template <class Handler>
  void theirs_written(const std::error_code& ec, Handler& handler) {
    writing_ = writer::none;
    if (ec) {
      broken_ = true;
      queued_.clear();
    }
    handler(ec);
    flush();
  }

private:
  enum class writer : uint8_t { none, ours, theirs };

  /// The transport's write, waiting for ours.
  struct waiting {
    Write write;
    /// Bytes at the head of queued_ that must leave before it.
    size_t after;
  };

  Wire& wire() {
    return static_cast<Wire&>(*this);
  }

  // The socket failed under our write. The transport learns it from its
  // own write if one waits, else from its read, which the shutdown ends.
  void fail() {
    broken_ = true;
    queued_.clear();
    if (theirs_) {
      auto w = std::move(theirs_->write);
      theirs_.reset();
      wire().refuse_theirs(std::move(w));
      return;
    }
    wire().shut_down();
  }

  std::string queued_;
  std::string sending_;
  /// Rare (a control frame behind lines): off the connection's own size.
  std::unique_ptr<waiting> theirs_;
  writer writing_ = writer::none;
  bool broken_ = false;
};

} // namespace net

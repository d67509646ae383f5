#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <websocketpp/transport/asio/endpoint.hpp>

namespace net {

/// websocketpp's Asio connection with an outbox: the frames the bridge
/// queues for a client gather in one buffer and leave in one write when the
/// bridge flushes, once per turn of the loop, however many lines that turn
/// had. websocketpp's own writes (the handshake answer, pings, pongs, the
/// close frame) share the socket, one write at a time, and bytes leave in
/// the order they were queued, whichever way they came.
///
/// Why: for every message websocketpp queues, it posts a dispatch and
/// starts a write of its own, two allocations and two handlers per client
/// and turn; with a thousand recipients a turn, that bookkeeping, not the
/// system call, is where a relay's CPU went. Here a recipient costs a copy
/// into its outbox and, per turn, one write.
template <class config>
class outbox_connection
  : public websocketpp::transport::asio::connection<config> {
  using base = websocketpp::transport::asio::connection<config>;

public:
  using base::base;
  using write_handler = websocketpp::transport::write_handler;
  using buffer = websocketpp::transport::buffer;

  /// Whether a write on this connection failed: nothing more leaves.
  bool broken() const {
    return broken_;
  }

  /// Appends `bytes` (whole frames) to the outbox unless broken(). Returns
  /// whether the caller must call flush() for them to leave; if not, the
  /// write in flight takes them along when it is done.
  bool queue(std::string_view bytes) {
    if (broken_)
      return false;
    bool idle = outbox_.empty() && writing_ == writer::none;
    outbox_.append(bytes);
    return idle;
  }

  /// Starts the next write, unless one is in flight: the outbox, or as much
  /// of it as was queued before websocketpp's waiting write, then that.
  void flush() {
    if (writing_ != writer::none)
      return;
    if (theirs_ && theirs_->after == 0) {
      auto d = std::move(theirs_);
      write_theirs(d->bufs, std::move(d->handler));
      return;
    }
    if (outbox_.empty())
      return;
    auto bytes = theirs_ ? theirs_->after : outbox_.size();
    if (bytes == outbox_.size()) {
      std::swap(outbox_, sending_); // sending_ is empty here
    } else {
      sending_.assign(outbox_, 0, bytes);
      outbox_.erase(0, bytes);
    }
    if (theirs_)
      theirs_->after = 0;
    writing_ = writer::outbox;
    ::asio::async_write(
      this->get_socket(), ::asio::buffer(sending_),
      [this, self = this->get_shared()](const std::error_code& ec, size_t) {
        outbox_written(ec);
      });
  }

  /// Bytes queued here and not yet written (websocketpp's queue aside).
  size_t unsent_bytes() const {
    return outbox_.size() + sending_.size();
  }

  /// websocketpp's writes. They hide the base class's, which websocketpp
  /// calls by qualified name through this class. It has at most one write
  /// in flight.
  void async_write(const char* buf, size_t len, write_handler handler) {
    async_write(std::vector<buffer>{{buf, len}}, std::move(handler));
  }

  void async_write(const std::vector<buffer>& bufs, write_handler handler) {
    if (writing_ == writer::none && outbox_.empty()) {
      write_theirs(bufs, std::move(handler));
      return;
    }
    // Behind what the outbox holds now (a close frame must follow the last
    // lines) and what is in flight, but before what is queued later (a pong
    // must not wait for a steady stream of lines).
    assert(!theirs_);
    theirs_ = std::make_unique<deferred>(
      deferred{bufs, std::move(handler), outbox_.size()});
  }

private:
  enum class writer : uint8_t { none, outbox, websocketpp };

  /// A websocketpp write waiting for the outbox's; its buffers stay valid
  /// until its handler runs.
  struct deferred {
    std::vector<buffer> bufs;
    write_handler handler;
    /// Bytes at the head of the outbox that must leave first.
    size_t after;
  };

  void write_theirs(const std::vector<buffer>& bufs, write_handler handler) {
    writing_ = writer::websocketpp;
    // The base's write holds a reference to this connection until the
    // handler has run.
    base::async_write(
      bufs, [this, handler = std::move(handler)](const std::error_code& ec) {
        writing_ = writer::none;
        if (ec) {
          broken_ = true;
          outbox_.clear();
        }
        handler(ec); // may write again
        flush();
      });
  }

  void outbox_written(const std::error_code& ec) {
    // A busy client reuses the buffer; an idle one gives its memory back.
    if (outbox_.empty())
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

  // The socket failed under the outbox's write. websocketpp learns it from
  // its own write if one waits, else from its read, which the shutdown
  // ends.
  void fail() {
    broken_ = true;
    outbox_.clear();
    if (theirs_) {
      auto d = std::move(theirs_);
      d->handler(websocketpp::transport::error::make_error_code(
        websocketpp::transport::error::pass_through));
      return;
    }
    std::error_code ignored;
    this->get_socket().shutdown(::asio::socket_base::shutdown_both, ignored);
  }

  std::string outbox_;
  std::string sending_;
  std::unique_ptr<deferred> theirs_;
  writer writing_ = writer::none;
  bool broken_ = false;
};

/// websocketpp's Asio transport, making outbox connections.
template <class config>
struct outbox_endpoint : websocketpp::transport::asio::endpoint<config> {
  using transport_con_type = outbox_connection<config>;
  using transport_con_ptr = typename transport_con_type::ptr;
};

} // namespace net

#pragma once

// What may pass from a connection on the cluster port to CAF's BASP: a
// client handshake first, then well-formed BASP messages, each within a
// size cap. Pure: bytes in, bytes out, no socket.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cluster {

/// The largest BASP payload let through. CAF 0.17.6 allocates (and zeroes)
/// whatever a header announces before a byte of it arrives, up to 4 GiB;
/// our largest message, a roster, holds 8 bytes per client.
constexpr uint32_t max_basp_payload = 16 * 1024 * 1024;

/// Follows the bytes a node receives on its cluster port, message by
/// message (BASP 0.17: a 32-byte big-endian header, then the payload it
/// announces). What is not BASP from a connecting node is refused at its
/// first byte that says so.
class basp_filter {
public:
  static constexpr size_t header_size = 32;

  explicit basp_filter(uint32_t max_payload = max_basp_payload);

  /// Takes the next `size` bytes and appends to `out` those that may pass
  /// on now: a header once it is whole and valid, payload as it comes.
  /// False on the first violation (see `refusal`); nothing passes after.
  bool feed(const char* data, size_t size, std::vector<char>& out);

  /// Why the stream was refused, for a log line (e.g. "an HTTP request");
  /// empty while it is fine.
  const std::string& refusal() const {
    return refusal_;
  }

  /// Whether the client handshake came through whole: from then on the
  /// connection is a node's.
  bool handshake_passed() const {
    return handshakes_ > 0;
  }

  /// Whole headers passed so far (the first is the client handshake).
  uint64_t messages() const {
    return messages_;
  }

  /// Whether a message is half through (header or payload).
  bool partial() const {
    return header_fill_ > 0 || payload_left_ > 0;
  }

  /// The first bytes of the client handshake's payload: the node id of
  /// the program that connects.
  const std::string& client_node() const {
    return client_node_;
  }

private:
  bool check_header();
  bool refuse(std::string why);

  uint32_t max_payload_;
  std::array<unsigned char, header_size> header_{};
  size_t header_fill_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t handshakes_ = 0;
  uint64_t messages_ = 0;
  std::string client_node_;
  /// The first bytes of the stream, to say what it was when refused.
  std::string first_bytes_;
  std::string refusal_;
};

/// Follows BASP's own bytes toward the node that connected: the server
/// handshake (our node id, app identifiers, published actor), then what
/// BASP sends. Never refuses anything; only counts.
class basp_watch {
public:
  void feed(const char* data, size_t size);

  /// Whole headers seen so far (the first is the server handshake).
  uint64_t messages() const {
    return messages_;
  }

  /// Whether the first message was a whole server handshake.
  bool server_handshake_sent() const {
    return server_handshake_ && (messages_ > 1 || payload_left_ == 0);
  }

  /// The first bytes of the server handshake's payload (our node id
  /// comes first).
  const std::string& server_payload() const {
    return server_payload_;
  }

private:
  std::array<unsigned char, basp_filter::header_size> header_{};
  size_t header_fill_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t messages_ = 0;
  bool server_handshake_ = false;
  std::string server_payload_;
};

/// Whether a connection that the connecting side closed now was a CAF
/// program with another application identifier. CAF 0.17.6's client sends
/// its handshake (node id only, no app identifiers) at once, checks ours
/// and, on a mismatch, closes without another byte; a node of ours sends a
/// second handshake instead. A node that finds the connection redundant
/// closes the same way, but our BASP knows it already and sends it nothing
/// after the server handshake, while a node new to it gets a message at
/// once (basp_broker::learned_new_node); a connection to our own node is
/// told by its node id.
bool foreign_app_closed(const basp_filter& in, const basp_watch& out);

} // namespace cluster

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

private:
  bool check_header();
  bool refuse(std::string why);

  uint32_t max_payload_;
  std::array<unsigned char, header_size> header_{};
  size_t header_fill_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t handshakes_ = 0;
  /// The first bytes of the stream, to say what it was when refused.
  std::string first_bytes_;
  std::string refusal_;
};

} // namespace cluster

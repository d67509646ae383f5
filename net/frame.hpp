#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace net {

/// The header of an unmasked, unfragmented RFC 6455 text frame (a server's)
/// carrying `payload_size` bytes.
inline std::string text_frame_header(size_t payload_size) {
  std::string header;
  header.push_back(static_cast<char>(0x81)); // FIN, opcode 1 (text)
  if (payload_size < 126) {
    header.push_back(static_cast<char>(payload_size));
  } else if (payload_size <= 0xFFFF) {
    header.push_back(126);
    header.push_back(static_cast<char>(payload_size >> 8));
    header.push_back(static_cast<char>(payload_size & 0xFF));
  } else {
    header.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      header.push_back(static_cast<char>(
        (static_cast<uint64_t>(payload_size) >> shift) & 0xFF));
  }
  return header;
}

} // namespace net

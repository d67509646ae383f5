#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace net {

/// Returns `payload` as one unmasked, unfragmented RFC 6455 text frame, the
/// way a server sends it: header and payload in one contiguous buffer.
inline std::string text_frame(std::string_view payload) {
  auto size = static_cast<uint64_t>(payload.size());
  std::string frame;
  frame.reserve(10 + payload.size());
  frame.push_back(static_cast<char>(0x81)); // FIN, opcode 1 (text)
  if (size < 126) {
    frame.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    frame.push_back(126);
    frame.push_back(static_cast<char>(size >> 8));
    frame.push_back(static_cast<char>(size & 0xFF));
  } else {
    frame.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>((size >> shift) & 0xFF));
  }
  frame.append(payload);
  return frame;
}

} // namespace net

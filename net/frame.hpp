#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace net {

/// Appends `payload` to `out` as one unmasked, unfragmented RFC 6455 text
/// frame, the way a server sends it: header, then payload.
inline void append_text_frame(std::string& out, std::string_view payload) {
  auto size = static_cast<uint64_t>(payload.size());
  out.push_back(static_cast<char>(0x81)); // FIN, opcode 1 (text)
  if (size < 126) {
    out.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    out.push_back(126);
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xFF));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((size >> shift) & 0xFF));
  }
  out.append(payload);
}

/// `payload` as one text frame in a buffer of its own.
inline std::string text_frame(std::string_view payload) {
  std::string frame;
  frame.reserve(10 + payload.size());
  append_text_frame(frame, payload);
  return frame;
}

} // namespace net

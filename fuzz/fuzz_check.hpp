#pragma once

// What the fuzz targets share: a check that stops the fuzzer with a message,
// and an independent UTF-8 decoder to judge the sanitizer's output by.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::fuzz {

/// Stops the run with `what` when `ok` is false; libFuzzer then saves the
/// input as a crash artifact.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

/// Decodes strict UTF-8 (no overlong forms, no surrogates, nothing past
/// U+10FFFF) into code points; nothing if `str` is not valid UTF-8.
inline std::optional<std::vector<char32_t>> decode_utf8(std::string_view str) {
  std::vector<char32_t> result;
  for (size_t i = 0; i < str.size();) {
    auto b0 = static_cast<unsigned char>(str[i]);
    if (b0 < 0x80) {
      result.push_back(b0);
      ++i;
      continue;
    }
    size_t n;
    char32_t cp;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) {
      n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return std::nullopt;
    }
    if (i + n > str.size())
      return std::nullopt;
    for (size_t k = 1; k < n; ++k) {
      auto b = static_cast<unsigned char>(str[i + k]);
      if ((b & 0xC0) != 0x80)
        return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return std::nullopt;
    result.push_back(cp);
    i += n;
  }
  return result;
}

inline std::string encode_utf8(const std::vector<char32_t>& cps) {
  std::string result;
  for (auto cp : cps) {
    if (cp < 0x80) {
      result += static_cast<char>(cp);
    } else if (cp < 0x800) {
      result += static_cast<char>(0xC0 | (cp >> 6));
      result += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      result += static_cast<char>(0xE0 | (cp >> 12));
      result += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      result += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      result += static_cast<char>(0xF0 | (cp >> 18));
      result += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      result += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      result += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return result;
}

/// Whether a code point could steer a terminal: C0 but tab, DEL, C1.
inline bool is_control(char32_t cp) {
  return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
}

/// Whether any bytes of `str` could steer a terminal, whatever the encoding
/// around them: a C0 byte but tab, DEL, or the UTF-8 form of a C1 control.
inline bool has_control_bytes(std::string_view str) {
  for (size_t i = 0; i < str.size(); ++i) {
    auto b = static_cast<unsigned char>(str[i]);
    if ((b < 0x20 && b != '\t') || b == 0x7F)
      return true;
    if (b == 0xC2 && i + 1 < str.size()) {
      auto next = static_cast<unsigned char>(str[i + 1]);
      if (next >= 0x80 && next <= 0x9F)
        return true;
    }
  }
  return false;
}

/// The white space the protocol trims: space, \t, \n, \r, \f, \v.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
         || c == '\v';
}

} // namespace chat::fuzz

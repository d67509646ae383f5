#include "net/wire_corrections.hpp"

#include <array>
#include <string>
#include <utility>

#include <websocketpp/close.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/http/response.hpp>
#include <websocketpp/processors/base.hpp>

#include "net/handshake_admission.hpp"

namespace net {

namespace {

// The bytes of `res` as a complete HTTP answer that closes its connection.
std::string render(const http_response& res) {
  websocketpp::http::parser::response out;
  out.set_version("HTTP/1.1");
  out.set_status(
    static_cast<websocketpp::http::status_code::value>(res.status));
  for (auto& [key, value] : res.headers)
    out.replace_header(key, value);
  out.replace_header("Connection", "close");
  out.replace_header("Server", "chat-node");
  out.set_body(res.body);
  return out.raw();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The status line and headers of `raw`, each line ending in CRLF.
std::string_view head_of(std::string_view raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string_view::npos ? raw : raw.substr(0, end + 2);
}

bool has_header_line(std::string_view head, std::string_view line) {
  return head.find(line) != std::string_view::npos;
}

std::string close_payload(websocketpp::close::status::value code,
                          const std::string& reason) {
  std::string payload(2, '\0');
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xff);
  return payload + reason;
}

// A close frame payload websocketpp sends for one of these errors, and
// the one to send instead.
struct close_correction {
  std::string sent;
  std::string corrected;
};

std::array<close_correction, 2> make_close_corrections() {
  namespace pe = websocketpp::processor::error;
  namespace cs = websocketpp::close::status;
  auto correction = [](pe::processor_errors error, cs::value code) {
    // websocketpp sends ec.message() as the reason, cut to what fits.
    auto reason = pe::make_error_code(error).message().substr(
      0, websocketpp::frame::limits::close_reason_size);
    return close_correction{close_payload(cs::internal_endpoint_error, reason),
                            close_payload(code, reason)};
  };
  return {correction(pe::non_minimal_encoding, cs::protocol_error),
          correction(pe::requires_64bit, cs::message_too_big)};
}

} // namespace

std::optional<std::string_view> corrected_http_answer(std::string_view raw) {
  static const std::string version_refusal
    = render(handshake_admission::version_refusal());
  auto head = head_of(raw);
  if (starts_with(head, "HTTP/1.1 500 ")
      && !has_header_line(head, "\r\nContent-Length:"))
    return version_refusal;
  if (starts_with(head, "HTTP/1.1 400 ")
      && has_header_line(head, "\r\nSec-WebSocket-Version: 0,7,8,13\r\n"))
    return version_refusal;
  return std::nullopt;
}

size_t correct_close_frames(std::vector<websocketpp::transport::buffer>& bufs) {
  static const auto corrections = make_close_corrections();
  size_t corrected = 0;
  for (size_t i = 0; i + 1 < bufs.size(); ++i) {
    // A server's close frame: FIN and opcode 8, unmasked, a short length.
    auto& header = bufs[i];
    if (header.len != 2 || static_cast<unsigned char>(header.buf[0]) != 0x88)
      continue;
    auto& payload = bufs[i + 1];
    std::string_view sent{payload.buf, payload.len};
    for (auto& c : corrections)
      if (sent == c.sent) {
        // Same length: the header stays right.
        payload = {c.corrected.data(), c.corrected.size()};
        ++corrected;
        break;
      }
  }
  return corrected;
}

} // namespace net

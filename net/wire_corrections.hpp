#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <websocketpp/transport/base/connection.hpp>

namespace net {

/// The few answers websocketpp 0.8.2 writes that blame the node (500, close
/// 1011) or name a version it refuses, for what is the client's mistake;
/// net/outbox_transport.hpp applies these to every write websocketpp makes,
/// so each is corrected on its way to the wire, whatever the transport.
///
/// Why on the write path: websocketpp decides both inside functions we
/// cannot hook (its reading of the handshake, its processor's frame checks
/// and processor::error::to_ws); catching them on the read path would take
/// a second HTTP and frame parser in front of its own. On the write path
/// each is one recognisable answer, and a close frame keeps its reason.

/// What to send instead of websocketpp's HTTP answer `raw`, or nothing:
/// send `raw`. The bytes returned live as long as the process.
///
/// - `500` without Content-Length: websocketpp's only 500 to a handshake,
///   a request without Sec-WebSocket-Version (which it reads as the
///   pre-RFC draft hixie-76) whose 8 key bytes did not follow the headers
///   in the same read. The bridge's own answers always carry a
///   Content-Length.
/// - `400` naming the versions `0,7,8,13`: an unknown version, answered
///   with a hixie-76 ("0") the node refuses.
///
/// Both become handshake_admission::version_refusal(), the 426 the node
/// gives a hixie-76 request itself.
std::optional<std::string_view> corrected_http_answer(std::string_view raw);

/// Corrects, in `bufs` (websocketpp's frames as it writes them, a header
/// buffer then a payload buffer each), the close code of a close frame
/// that websocketpp sends for a frame it could not read: its processor
/// reports a client's mistake for which to_ws() has no code, and to_ws()
/// then says 1011 (internal error). A 64-bit length for 5 bytes
/// (`non_minimal_encoding`) is a protocol error, 1002; a frame too long
/// for a 32-bit address space (`requires_64bit`), 1009. The reason text
/// stays. Returns how many frames it corrected.
size_t correct_close_frames(std::vector<websocketpp::transport::buffer>& bufs);

} // namespace net

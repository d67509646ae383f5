#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/bridge_stats.hpp"
#include "net/metrics.hpp"

namespace net {

/// A file served as it is, e.g. the chat page; the bytes live elsewhere
/// (embedded in the binary) for as long as the process runs.
struct static_file {
  /// The request path, e.g. "/app.js". "/index.html" is also served at "/".
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};

/// The answer to one plain HTTP request.
struct http_response {
  using header_list = std::vector<std::pair<std::string, std::string>>;

  int status = 200;
  std::string body;
  /// Content-Type and any other header. The server adds Content-Length
  /// from the body unless it is here: an answer to HEAD names the length of
  /// the body it leaves out.
  header_list headers;
};

/// Answers the plain HTTP requests that reach the node's port: the chat
/// page, /healthz and /metrics; 404 for anything else. It only reads
/// memory and relaxed atomics, so it never waits on an actor and never
/// slows the chat path down. Runs on the Asio thread.
class http_service {
public:
  using clock = std::chrono::steady_clock;

  /// `peers`, for a clustered node only, adds `"peers"` to /healthz.
  http_service(std::vector<static_file> files, std::vector<metric> metrics,
               const bridge_stats& stats, clock::time_point started,
               const std::atomic<uint64_t>* peers = nullptr);

  /// Answers `method` on `target` (path, maybe with a query) at time `now`.
  /// HEAD gets GET's answer without its body (RFC 7231 4.3.2); any other
  /// method but GET gets 405.
  http_response handle(std::string_view method, std::string_view target,
                       clock::time_point now) const;

private:
  http_response healthz(clock::time_point now) const;

  std::vector<static_file> files_;
  std::vector<metric> metrics_;
  const bridge_stats& stats_;
  clock::time_point started_;
  const std::atomic<uint64_t>* peers_;
};

} // namespace net

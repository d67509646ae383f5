#include "net/http_service.hpp"

#include <algorithm>

namespace net {

namespace {

http_response text_response(int status, std::string body) {
  return {
    status, std::move(body), {{"Content-Type", "text/plain; charset=utf-8"}}};
}

} // namespace

http_service::http_service(std::vector<static_file> files,
                           std::vector<metric> metrics,
                           const bridge_stats& stats, clock::time_point started,
                           const std::atomic<uint64_t>* peers)
  : files_(std::move(files)),
    metrics_(std::move(metrics)),
    stats_(stats),
    started_(started),
    peers_(peers) {
  // nop
}

http_response http_service::handle(std::string_view method,
                                   std::string_view target,
                                   clock::time_point now) const {
  // Every resource GET serves, HEAD must serve too (RFC 7231 4.1), with
  // GET's headers and Content-Length and no body (RFC 7230 3.3).
  if (method == "HEAD") {
    auto res = handle("GET", target, now);
    res.headers.emplace_back("Content-Length", std::to_string(res.body.size()));
    res.body.clear();
    return res;
  }
  if (method != "GET") {
    auto res = text_response(405, "Method Not Allowed\n");
    res.headers.emplace_back("Allow", "GET, HEAD");
    return res;
  }
  // Route on the path alone: `/healthz?probe=1` is `/healthz`.
  auto path = target.substr(0, target.find_first_of("?#"));
  if (path == "/healthz")
    return healthz(now);
  if (path == "/metrics")
    return {200,
            prometheus_text(metrics_),
            {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"},
             {"Cache-Control", "no-store"}}};
  if (path == "/")
    path = "/index.html";
  auto file
    = std::find_if(files_.begin(), files_.end(),
                   [&](const static_file& f) { return f.path == path; });
  if (file == files_.end())
    return text_response(404, "Not Found\n");
  // The page speaks only to its own origin and never runs inline code, so
  // even a rendering bug could not turn a chat line into a script.
  return {200,
          std::string{file->body},
          {{"Content-Type", std::string{file->content_type}},
           {"Cache-Control", "no-cache"},
           {"X-Content-Type-Options", "nosniff"},
           {"Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"}}};
}

http_response http_service::healthz(clock::time_point now) const {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  auto uptime = duration_cast<seconds>(now - started_).count();
  auto sessions = stats_.sessions_connected.load(std::memory_order_relaxed);
  auto body = "{\"status\":\"ok\",\"uptime_seconds\":" + std::to_string(uptime)
              + ",\"sessions\":" + std::to_string(sessions);
  if (peers_ != nullptr)
    body += ",\"peers\":"
            + std::to_string(peers_->load(std::memory_order_relaxed));
  body += "}\n";
  return {200,
          std::move(body),
          {{"Content-Type", "application/json"},
           {"Cache-Control", "no-store"}}};
}

} // namespace net

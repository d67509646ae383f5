#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "net/http_service.hpp"
#include "net/web_files.hpp"

using namespace std::chrono_literals;

namespace {

using clock_type = net::http_service::clock;

// The page, the stats and a service over them, started at `t0`.
struct service_fixture {
  net::bridge_stats bridge;
  chat::chat_stats chat;
  clock_type::time_point t0 = clock_type::now();
  net::http_service http{net::web_files(), net::node_metrics(bridge, chat),
                         bridge, t0};

  net::http_response get(std::string_view target,
                         clock_type::duration dt = 0s) {
    return http.handle("GET", target, t0 + dt);
  }
};

std::string header(const net::http_response& res, const std::string& key) {
  for (auto& [k, v] : res.headers)
    if (k == key)
      return v;
  return "";
}

// Parses Prometheus text: sample name -> value, and name -> TYPE / HELP.
struct exposition {
  std::map<std::string, uint64_t> values;
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;

  explicit exposition(const std::string& text) {
    std::istringstream in{text};
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words{line};
      std::string first, name;
      words >> first;
      if (first == "#") {
        std::string kind;
        words >> kind >> name;
        std::string rest;
        std::getline(words >> std::ws, rest);
        (kind == "TYPE" ? types : helps)[name] = rest;
      } else {
        uint64_t value = 0;
        REQUIRE(words >> value);
        values[first] = value;
      }
    }
  }
};

const char* const every_metric[] = {
  "chat_sessions_connected",
  "chat_connections_accepted_total",
  "chat_connections_refused_total",
  "chat_frames_received_total",
  "chat_frames_sent_total",
  "chat_http_requests_total",
  "chat_deliveries_total",
  "chat_pages_active",
  "chat_private_chats_active",
  "chat_slow_consumer_drops_total",
  "chat_rate_limited_clients_total",
  "chat_ping_timeouts_total",
  "chat_busy_clients_kept_total",
  "chat_address_limit_refusals_total",
};

} // namespace

TEST_CASE("GET / serves the embedded chat page", "[http]") {
  service_fixture fx;
  auto res = fx.get("/");
  CHECK(res.status == 200);
  CHECK(header(res, "Content-Type") == "text/html; charset=utf-8");
  CHECK(res.body.find("<script src=\"/app.js\"") != std::string::npos);
  CHECK(header(res, "Content-Security-Policy").find("script-src 'self'")
        != std::string::npos);
  CHECK(fx.get("/index.html").body == res.body);
  CHECK(fx.get("/?room=1").body == res.body);
}

TEST_CASE("the page's script and style sheet are served with their types",
          "[http]") {
  service_fixture fx;
  auto js = fx.get("/app.js");
  CHECK(js.status == 200);
  CHECK(header(js, "Content-Type") == "text/javascript; charset=utf-8");
  CHECK(js.body.find("textContent") != std::string::npos);
  CHECK(js.body.find("innerHTML") == std::string::npos);
  auto css = fx.get("/style.css");
  CHECK(css.status == 200);
  CHECK(header(css, "Content-Type") == "text/css; charset=utf-8");
  // Embedding keeps every byte, the last one included.
  CHECK(css.body.back() == '\n');
  CHECK(css.body.find('\0') == std::string::npos);
}

TEST_CASE("any other path is 404 and any other method 405", "[http]") {
  service_fixture fx;
  for (auto path : {"/nope", "/index", "/app.js/", "/../web/app.js",
                    "/healthz/x", "//", "/web/index.html"})
    CHECK(fx.get(path).status == 404);
  for (auto method : {"POST", "PUT", "DELETE", "OPTIONS", "get", "TRACE"}) {
    INFO(method);
    auto res = fx.http.handle(method, "/", fx.t0);
    CHECK(res.status == 405);
    CHECK(header(res, "Allow") == "GET, HEAD");
    CHECK(header(res, "Content-Length").empty()); // the server adds it
  }
}

TEST_CASE("HEAD answers as GET does, with GET's length and no body", "[http]") {
  service_fixture fx;
  fx.bridge.sessions_connected = 2;
  for (auto target : {"/", "/index.html", "/app.js", "/style.css", "/healthz",
                      "/metrics", "/nope"}) {
    INFO(target);
    auto get = fx.get(target, 3s);
    auto head = fx.http.handle("HEAD", target, fx.t0 + 3s);
    CHECK(head.status == get.status);
    CHECK(head.body.empty());
    CHECK(header(head, "Content-Length") == std::to_string(get.body.size()));
    CHECK(header(head, "Content-Type") == header(get, "Content-Type"));
    CHECK(header(head, "Cache-Control") == header(get, "Cache-Control"));
    CHECK(head.headers.size() == get.headers.size() + 1);
  }
}

TEST_CASE("/healthz reports status, uptime and sessions as JSON", "[http]") {
  service_fixture fx;
  fx.bridge.sessions_connected = 3;
  auto res = fx.get("/healthz", 62500ms);
  CHECK(res.status == 200);
  CHECK(header(res, "Content-Type") == "application/json");
  CHECK(res.body
        == "{\"status\":\"ok\",\"uptime_seconds\":62,\"sessions\":3}\n");
  CHECK(fx.get("/healthz?verbose=1", 1s).status == 200);
}

TEST_CASE("/metrics exposes every figure in Prometheus text format", "[http]") {
  service_fixture fx;
  auto res = fx.get("/metrics");
  CHECK(res.status == 200);
  CHECK(header(res, "Content-Type")
        == "text/plain; version=0.0.4; charset=utf-8");
  exposition before{res.body};
  CHECK(before.values.size() == std::size(every_metric));
  for (auto name : every_metric) {
    INFO(name);
    CHECK(before.values.count(name) == 1);
    CHECK(before.values[name] == 0);
    auto counter = std::string{name}.find("_total") != std::string::npos;
    CHECK(before.types[name] == (counter ? "counter" : "gauge"));
    CHECK(!before.helps[name].empty());
  }
}

TEST_CASE("/metrics reads the live counters on every request", "[http]") {
  service_fixture fx;
  fx.bridge.frames_in = 7;
  fx.bridge.connections_refused = 2;
  fx.chat.deliveries = 12;
  fx.chat.active_pages = 1;
  fx.bridge.slow_consumer_drops = 4; // what the backlog cap will count
  exposition after{fx.get("/metrics").body};
  CHECK(after.values["chat_frames_received_total"] == 7);
  CHECK(after.values["chat_connections_refused_total"] == 2);
  CHECK(after.values["chat_deliveries_total"] == 12);
  CHECK(after.values["chat_pages_active"] == 1);
  CHECK(after.values["chat_slow_consumer_drops_total"] == 4);
  CHECK(after.values["chat_frames_sent_total"] == 0);
}

TEST_CASE("an unclustered node's answers name no peers", "[http]") {
  service_fixture fx;
  CHECK(fx.get("/healthz").body.find("peers") == std::string::npos);
  CHECK(fx.get("/metrics").body.find("chat_peer") == std::string::npos);
}

TEST_CASE("a clustered node's /healthz adds the peers linked", "[http]") {
  net::bridge_stats bridge;
  chat::chat_stats chat{3};
  auto t0 = clock_type::now();
  net::http_service http{net::web_files(), net::node_metrics(bridge, chat),
                         bridge, t0, &chat.peers};
  bridge.sessions_connected = 3;
  chat.peers = 2;
  CHECK(http.handle("GET", "/healthz", t0 + 1s).body
        == "{\"status\":\"ok\",\"uptime_seconds\":1,\"sessions\":3,"
           "\"peers\":2}\n");
}

TEST_CASE("a clustered node's /metrics adds the cluster's figures",
          "[http]") {
  net::bridge_stats bridge;
  chat::chat_stats chat{3};
  auto metrics = net::node_metrics(bridge, chat);
  auto more = net::cluster_metrics(chat, 2);
  metrics.insert(metrics.end(), more.begin(), more.end());
  net::http_service http{net::web_files(), std::move(metrics), bridge,
                         clock_type::now(), &chat.peers};
  chat.peers = 2;
  chat.peer_losses = 1;
  chat.peer_backlog_drops = 1;
  chat.peer_messages_sent = 10;
  chat.peer_messages_received = 9;
  chat.peer_bytes_sent = 1000;
  chat.peer_bytes_received = 900;
  chat.peer_backlog_bytes[0] = 100;
  chat.peer_backlog_bytes[2] = 7;
  auto body = http.handle("GET", "/metrics", clock_type::now()).body;
  exposition figures{body};
  // The node's own figures, the cluster's, and one backlog per other slot.
  CHECK(figures.values.size() == std::size(every_metric) + 7 + 2);
  CHECK(figures.values["chat_peers_connected"] == 2);
  CHECK(figures.values["chat_peer_losses_total"] == 1);
  CHECK(figures.values["chat_peer_backlog_drops_total"] == 1);
  CHECK(figures.values["chat_peer_messages_sent_total"] == 10);
  CHECK(figures.values["chat_peer_messages_received_total"] == 9);
  CHECK(figures.values["chat_peer_bytes_sent_total"] == 1000);
  CHECK(figures.values["chat_peer_bytes_received_total"] == 900);
  CHECK(figures.values["chat_peer_backlog_bytes{node=\"1\"}"] == 100);
  CHECK(figures.values["chat_peer_backlog_bytes{node=\"3\"}"] == 7);
  CHECK(figures.values.count("chat_peer_backlog_bytes{node=\"2\"}") == 0);
  for (auto& [name, type] : figures.types) {
    INFO(name);
    auto counter = name.find("_total") != std::string::npos;
    CHECK(type == (counter ? "counter" : "gauge"));
    CHECK(!figures.helps[name].empty());
  }
  // One HELP and one TYPE line for the labelled family.
  auto count = [&](const std::string& text) {
    size_t n = 0;
    for (auto at = body.find(text); at != std::string::npos;
         at = body.find(text, at + 1))
      ++n;
    return n;
  };
  CHECK(count("# TYPE chat_peer_backlog_bytes gauge\n") == 1);
  CHECK(count("# HELP chat_peer_backlog_bytes ") == 1);
}

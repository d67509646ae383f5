#include "runtime/config_file_check.hpp"

#include <sstream>

#include <catch2/catch.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/settings.hpp>

namespace {

// A node's options in miniature: a number, a real number, a text and a
// key of another section.
struct options {
  uint16_t port = 8765;
  double burst = 200;
  std::string host = "localhost";
  size_t threads = 2;
  caf::config_option_set set;
  caf::settings content;

  options() {
    caf::config_option_adder{set, "global"}
      .add(port, "port", "")
      .add(burst, "frame-burst", "")
      .add(host, "host", "");
    caf::config_option_adder{set, "scheduler"}.add(threads, "max-threads", "");
  }

  std::vector<std::string> check(const std::string& text) {
    std::istringstream file{text};
    return runtime::check_config_file(file, set, content);
  }
};

} // namespace

TEST_CASE("a config file of known keys and right types passes",
          "[config-file]") {
  options o;
  CHECK(o.check("port=9000\nhost=\"::\"\n[scheduler]\nmax-threads=4\n")
          .empty());
}

TEST_CASE("a config file's misspelt key is named", "[config-file]") {
  options o;
  CHECK(o.check("prot=9000\n")
        == std::vector<std::string>{"unknown option prot"});
  CHECK(o.check("[scheduler]\nmax-thread=4\n")
        == std::vector<std::string>{"unknown option scheduler.max-thread"});
}

TEST_CASE("a config file's value of the wrong type is named with the type "
          "wanted",
          "[config-file]") {
  options o;
  auto problems = o.check("port=\"high\"\n[scheduler]\nmax-threads=1.5\n");
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].rfind("port needs a value of type ", 0) == 0);
  CHECK(problems[1].rfind("scheduler.max-threads needs a value of type ", 0)
        == 0);
}

TEST_CASE("an integer for a real-number option is taken as that number",
          "[config-file]") {
  options o;
  CHECK(o.check("frame-burst=50\n").empty());
  CHECK(o.burst == 50.0);
  CHECK(caf::get_or(o.content, "frame-burst", 0.0) == 50.0);
}

TEST_CASE("the command line wins over a config file's integer for a real",
          "[config-file]") {
  options o;
  o.burst = 7;
  caf::put(o.content, "frame-burst", 7.0);
  CHECK(o.check("frame-burst=50\n").empty());
  CHECK(o.burst == 7.0);
}

// Fuzzes the actors as a whole: a lobby and four sessions with fake links on
// CAF's test coordinator (the actor tests' node_fixture), fed fuzzed frames.
//
// The input is a list of frames separated by '\n'. The first byte of each
// says who does what: k = (byte - 'a') mod 32, client k % 4, action k / 4:
//   0  a-d  a text frame (the rest of the line), then the node runs
//   1  e-h  a text frame, and the node does not run yet: frames of several
//           clients pile up
//   2  i-l  a binary frame, then the node runs
//   3  m-p  the client disconnects, a new one connects in its place
//   4  q-t  the clock moves (first byte of the rest % 32) x 100 ms, or 1 s
//   5  u-x  one job of the node runs, so messages interleave anywhere
//   6  y-|  a text frame ending in '\n', then the node runs
//   7       as 0
// Invariants, checked after every frame:
// - nothing crashes or leaks (ASan, UBSan, LSan);
// - no client receives a control character (C0 but tab, DEL, C1);
// - while every text frame was valid UTF-8, every frame received is too;
// - a client never receives its own chat line back;
// - a client's first frame is `You are Client N`, N one more than the last;
// - a client that disconnected receives nothing more.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "actors/command.hpp"
#include "actors/text.hpp"
#include "fuzz/fuzz_check.hpp"
#include "tests/actors/node_fixture.hpp"

using namespace chat::test;
using chat::fuzz::require;

namespace {

constexpr size_t max_frames = 256;

// Drives one node through one input and checks what every client gets.
class session_run {
public:
  session_run() {
    for (auto& c : clients_)
      c = connect();
  }

  void frame(std::string_view line) {
    auto k = static_cast<unsigned char>(line.front() - 'a') % 32;
    auto& c = clients_[k % 4];
    std::string rest{line.substr(1)};
    switch (k / 4) {
      case 1:
        send(c, std::move(rest));
        break;
      case 2:
        node_.enqueue_binary(c);
        node_.sched.run();
        break;
      case 3:
        node_.disconnect(c);
        check(c);
        gone_.push_back(c);
        c = connect();
        break;
      case 4: {
        auto tenths = rest.empty() ? 10
                                   : static_cast<unsigned char>(rest[0]) % 32;
        node_.advance(std::chrono::milliseconds{100 * tenths});
        break;
      }
      case 5:
        node_.sched.try_run_once();
        break;
      case 6:
        send(c, rest + '\n');
        node_.sched.run();
        break;
      default:
        send(c, std::move(rest));
        node_.sched.run();
    }
    check_all();
  }

private:
  client connect() {
    auto c = node_.connect();
    auto got = c.received();
    require(!got.empty()
              && got.front() == "You are Client " + std::to_string(++last_id_),
            "a newcomer is not greeted with the next number");
    said_[c.link.get()];
    check(c, got);
    return c;
  }

  void send(client& c, std::string line) {
    all_valid_ = all_valid_ && chat::fuzz::decode_utf8(line).has_value();
    if (chat::parse_command(line).kind == chat::command::say)
      said_[c.link.get()].insert(chat::make_terminal_safe(line));
    node_.enqueue(c, std::move(line));
  }

  // Whether some client other than `self` said `text`.
  bool said_by_other(const chat::client_link* self, const std::string& text) {
    for (auto& [link, texts] : said_)
      if (link != self && texts.count(text) != 0)
        return true;
    return false;
  }

  void check(client& c, const lines& got) {
    auto& mine = said_[c.link.get()];
    for (auto& line : got) {
      require(!chat::fuzz::has_control_bytes(line),
              "a client received a control character");
      require(!all_valid_ || chat::fuzz::decode_utf8(line).has_value(),
              "a client received invalid UTF-8");
      // A chat line arrives as `<S> <text>`.
      auto space = line.find(' ');
      if (space == 0 || space == std::string::npos
          || line.find_first_not_of("0123456789") != space)
        continue;
      auto text = line.substr(space + 1);
      require(mine.count(text) == 0 || said_by_other(c.link.get(), text),
              "a client received its own chat line");
    }
  }

  void check(client& c) {
    check(c, c.received());
  }

  void check_all() {
    for (auto& c : clients_)
      check(c);
    for (auto& c : gone_)
      require(c.received().empty(), "a disconnected client received a frame");
  }

  node_fixture node_;
  std::array<client, 4> clients_;
  std::vector<client> gone_;
  // The chat lines each client sent, as others would see them.
  std::map<const chat::client_link*, std::set<std::string>> said_;
  chat::client_id last_id_ = 0;
  bool all_valid_ = true;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  session_run run;
  size_t frames = 0;
  while (!input.empty() && frames++ < max_frames) {
    auto end = std::min(input.find('\n'), input.size());
    if (end > 0)
      run.frame(input.substr(0, end));
    input.remove_prefix(std::min(end + 1, input.size()));
  }
  return 0;
}

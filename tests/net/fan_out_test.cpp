// The outgoing path without a socket: links whose sinks record what the
// fan-out appends and flushes; the Asio loop runs only when the test says.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "net/fan_out.hpp"
#include "net/frame.hpp"

namespace {

using strings = std::vector<std::string>;

// A client's sink: what was appended waits until flush(), which "writes"
// it whole.
class recording_sink : public chat::link_sink {
public:
  /// Every flush's bytes, in order.
  strings writes;
  /// Bytes queued by someone else, counted into the backlog.
  size_t other_backlog = 0;
  bool open = true;
  std::string dropped_for;

  bool taking() const override {
    return open && dropped_for.empty();
  }

  size_t backlog() const override {
    return other_backlog + pending_.size();
  }

  bool append(std::string_view frames) override {
    bool idle = pending_.empty();
    pending_.append(frames);
    return idle;
  }

  void flush() override {
    if (!pending_.empty())
      writes.push_back(std::exchange(pending_, {}));
  }

  void drop(const std::string& why) override {
    dropped_for = why;
  }

private:
  std::string pending_;
};

// A link with a recording sink, or (with_sink false) none: such a link is
// reached through send().
class recording_link : public chat::client_link {
public:
  explicit recording_link(bool with_sink = true)
    : sink_(with_sink ? std::make_shared<recording_sink>() : nullptr) {
    // nop
  }

  void send(chat::shared_text text) override {
    sent.push_back(*text);
  }

  std::shared_ptr<chat::link_sink> sink() const override {
    return sink_;
  }

  recording_sink& recorded() {
    return *sink_;
  }

  /// Lines that came through send().
  strings sent;

private:
  std::shared_ptr<recording_sink> sink_;
};

std::string frame(const std::string& text) {
  return net::text_frame(text);
}

struct fan_out_fixture {
  asio::io_context io;
  net::bridge_stats stats;
  net::fan_out out{io, 1024, stats};
  std::vector<std::shared_ptr<recording_link>> links;
  chat::link_group everyone;

  explicit fan_out_fixture(size_t clients = 3) {
    std::vector<chat::client_link_ptr> group;
    for (size_t i = 0; i < clients; ++i) {
      links.push_back(std::make_shared<recording_link>());
      group.push_back(links.back());
    }
    everyone = std::make_shared<const std::vector<chat::client_link_ptr>>(
      std::move(group));
  }

  recording_sink& sink(size_t i) {
    return links[i]->recorded();
  }

  void say(const std::string& text, const chat::client_link* except) {
    out.hand_over(everyone, except, chat::make_text(text));
  }

  /// Runs the Asio loop until it has nothing left to do: one turn of
  /// hand-overs and the flush after it.
  void run_turn() {
    io.restart();
    io.run();
  }

  uint64_t frames_out() const {
    return stats.frames_out.load();
  }
};

} // namespace

TEST_CASE("a run of lines reaches each recipient whole, in order, in one "
          "write",
          "[fan-out]") {
  fan_out_fixture f;
  f.say("one", nullptr);
  f.say("two", nullptr);
  f.say("three", nullptr);
  f.run_turn();
  for (size_t i = 0; i < 3; ++i)
    CHECK(f.sink(i).writes
          == strings{frame("one") + frame("two") + frame("three")});
  CHECK(f.frames_out() == 9);
}

TEST_CASE("the sender of a line does not get it", "[fan-out]") {
  fan_out_fixture f;
  f.say("from 0", f.links[0].get());
  f.say("from 1", f.links[1].get());
  f.run_turn();
  CHECK(f.sink(0).writes == strings{frame("from 1")});
  CHECK(f.sink(1).writes == strings{frame("from 0")});
  CHECK(f.sink(2).writes == strings{frame("from 0") + frame("from 1")});
  CHECK(f.frames_out() == 4);
}

TEST_CASE("a recipient over its backlog cap is dropped, the others are not "
          "delayed",
          "[fan-out]") {
  fan_out_fixture f;
  f.sink(1).other_backlog = 1020; // the cap is 1024
  f.say("hello", nullptr);
  f.run_turn();
  CHECK(f.sink(1).dropped_for == "too slow: more than 1024 bytes unsent");
  CHECK(f.sink(1).writes.empty());
  CHECK(f.sink(0).writes == strings{frame("hello")});
  CHECK(f.sink(2).writes == strings{frame("hello")});
  CHECK(f.stats.slow_consumer_drops == 1);
  CHECK(f.frames_out() == 2);
  SECTION("and gets nothing more") {
    f.say("again", nullptr);
    f.run_turn();
    CHECK(f.sink(1).writes.empty());
    CHECK(f.stats.slow_consumer_drops == 1);
  }
}

TEST_CASE("a recipient may fill its backlog up to the cap exactly",
          "[fan-out]") {
  fan_out_fixture f;
  f.sink(1).other_backlog = 1024 - frame("hello").size();
  f.say("hello", nullptr);
  f.run_turn();
  CHECK(f.sink(1).dropped_for.empty());
  CHECK(f.sink(1).writes == strings{frame("hello")});
}

TEST_CASE("a recipient that takes no frames gets none and is not counted",
          "[fan-out]") {
  fan_out_fixture f;
  f.sink(2).open = false; // closing, or its write failed
  f.say("hello", nullptr);
  f.out.hand_over(f.links[2], chat::make_text("just you"));
  f.run_turn();
  CHECK(f.sink(2).writes.empty());
  CHECK(f.frames_out() == 2);
}

TEST_CASE("lines for one client and for its group keep their order",
          "[fan-out]") {
  fan_out_fixture f;
  f.out.hand_over(f.links[0], chat::make_text("first"));
  f.say("second", nullptr);
  f.out.hand_over(f.links[0], chat::make_text("third"));
  f.run_turn();
  CHECK(f.sink(0).writes
        == strings{frame("first") + frame("second") + frame("third")});
  CHECK(f.sink(1).writes == strings{frame("second")});
}

TEST_CASE("each recipient is flushed once per turn, after the turn",
          "[fan-out]") {
  fan_out_fixture f;
  f.say("a", nullptr);
  f.run_turn();
  // Three pushes into sink 0 this turn: a run, a single line, a run.
  f.say("b", nullptr);
  f.out.hand_over(f.links[0], chat::make_text("to 0"));
  f.say("c", f.links[1].get());
  f.run_turn();
  CHECK(f.sink(0).writes
        == strings{frame("a"), frame("b") + frame("to 0") + frame("c")});
  CHECK(f.sink(1).writes == strings{frame("a"), frame("b")});
}

TEST_CASE("a link without a sink gets its lines through send()", "[fan-out]") {
  fan_out_fixture f;
  auto plain = std::make_shared<recording_link>(false);
  auto group = std::make_shared<const std::vector<chat::client_link_ptr>>(
    std::vector<chat::client_link_ptr>{f.links[0], plain});
  f.out.hand_over(group, nullptr, chat::make_text("one"));
  f.out.hand_over(group, f.links[0].get(), chat::make_text("two"));
  f.out.hand_over(group, plain.get(), chat::make_text("three"));
  f.run_turn();
  CHECK(plain->sent == strings{"one", "two"});
  CHECK(f.sink(0).writes == strings{frame("one") + frame("three")});
}

// The node's scheduler on real threads: it is installed, and workers that
// went to sleep wake up for what is handed to them.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/prompt_sharing.hpp"

namespace {

// Counts the messages it gets, checking each sender's order, and tells
// `done` the count once it reaches `expected` (or -1 at the first message
// out of order).
caf::behavior counter(caf::event_based_actor* self, int expected,
                      caf::actor done) {
  auto next = std::make_shared<std::map<caf::actor_addr, int>>();
  auto total = std::make_shared<int>(0);
  return {
    [=](int k) {
      auto& last = (*next)[self->current_sender()->address()];
      if (k != last + 1) {
        self->send(done, -1);
        self->quit();
        return;
      }
      last = k;
      if (++*total == expected) {
        self->send(done, *total);
        self->quit();
      }
    },
  };
}

// Sends 1, 2, ..., n to `to`, then quits.
caf::behavior sender(caf::event_based_actor* self, caf::actor to, int n) {
  for (int k = 1; k <= n; ++k)
    self->send(to, k);
  self->quit();
  return {};
}

} // namespace

// A lost wake-up leaves the count short: the receive gives up after 10 s.
TEST_CASE("the node's scheduler is prompt sharing, and its workers wake for "
          "every job",
          "[scheduler]") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  runtime::use_prompt_sharing(cfg);
  caf::actor_system sys{cfg};
  CHECK(dynamic_cast<caf::scheduler::coordinator<runtime::prompt_sharing>*>(
          &sys.scheduler())
        != nullptr);
  constexpr int senders = 8;
  constexpr int each = 5000;
  caf::scoped_actor self{sys};
  auto sink = sys.spawn(counter, senders * each, caf::actor{self});
  for (int i = 0; i < senders; ++i)
    sys.spawn(sender, sink, each);
  int total = 0;
  self->receive([&](int n) { total = n; },
                caf::after(std::chrono::seconds{10}) >> [] {});
  CHECK(total == senders * each);
}

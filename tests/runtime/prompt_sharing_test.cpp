// The node's scheduler on real threads: it is installed, and workers that
// went to sleep wake up for what is handed to them.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/prompt_sharing.hpp"

namespace {

// Counts what it gets, starting at `total`, and checks each sender's
// order; answers the total when asked with a 0. (Spawned with an argument:
// CAF 0.17.6 binds a reference to null for a function spawned with none,
// which UBSan reports.)
caf::behavior counter(caf::event_based_actor* self, int start) {
  auto next = std::make_shared<std::map<caf::actor_addr, int>>();
  auto total = std::make_shared<int>(start);
  return {
    [=](int k) -> int {
      if (k == 0)
        return *total;
      auto& expected = (*next)[self->current_sender()->address()];
      if (k != expected + 1)
        return -1;
      expected = k;
      ++*total;
      return *total;
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

// A lost wake-up shows as a request that times out (5 s, bounded).
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
  auto sink = sys.spawn(counter, 0);
  constexpr int senders = 8;
  constexpr int each = 5000;
  for (int i = 0; i < senders; ++i)
    sys.spawn(sender, sink, each);
  caf::scoped_actor self{sys};
  int total = 0;
  for (int tries = 0; tries < 200 && total != senders * each; ++tries) {
    self->request(sink, std::chrono::seconds{5}, 0)
      .receive([&](int n) { total = n; },
               [&](caf::error&) { FAIL("the counter did not answer"); });
    if (total != senders * each)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  CHECK(total == senders * each);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

#pragma once

// What chat-bench's worker processes (--workers=W) share: one
// MAP_SHARED|MAP_ANONYMOUS region, mapped before fork(), so that every
// worker sees the same stamped lines, the others' counts and the
// coordinator's commands. One process holds at most ~19,900 sockets here;
// W processes hold W times that and still measure one line's latency as the
// time until it reached every other client, whichever process holds it.
// Stamps are CLOCK_MONOTONIC, one clock for every process on the host.
//
// Lock-free atomics only: they work across processes in shared memory.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include <sys/mman.h>

namespace chat_bench {

// One stamped line: its sender (a global client index), its send stamp,
// the deliveries it still owes and the stamp of the latest one so far.
struct line_slot {
  std::atomic<int64_t> sent_ns{0};
  std::atomic<int64_t> last_ns{0};
  std::atomic<int32_t> sender{0};
  std::atomic<int32_t> remaining{0};
};

enum class delivery { stray, extra, counted, last };

// Lines in a region of slots, numbered from 0 since the last clear().
class line_table {
public:
  line_table(line_slot* slots, std::atomic<int64_t>* count, size_t capacity)
    : slots_(slots), count_(count), capacity_(capacity) {
  }

  size_t size() const {
    auto n = static_cast<size_t>(count_->load(std::memory_order_acquire));
    return n < capacity_ ? n : capacity_;
  }

  const line_slot& operator[](size_t id) const {
    return slots_[id];
  }

  void clear() {
    count_->store(0, std::memory_order_release);
  }

  // A new line, stamped `t`; -1 when the table is full. Several workers may
  // start lines at once (the probe): the number is taken first, and nobody
  // reads a slot before its frame, sent after this, arrives.
  int64_t start(int sender, int remaining, int64_t t) {
    auto id = count_->fetch_add(1, std::memory_order_acq_rel);
    if (static_cast<size_t>(id) >= capacity_)
      return -1;
    auto& s = slots_[id];
    s.sender.store(sender, std::memory_order_relaxed);
    s.last_ns.store(0, std::memory_order_relaxed);
    s.remaining.store(remaining, std::memory_order_relaxed);
    s.sent_ns.store(t, std::memory_order_release);
    return id;
  }

  // Client `receiver` got line `id` at `t`. `last`: it was the line's final
  // delivery, and last_ns holds the latest stamp of all of them (each
  // receiver raises it before it counts down, so whoever counts the last
  // one, or sees remaining at 0, reads the true latest).
  delivery deliver(size_t id, int receiver, int64_t t) {
    if (id >= size())
      return delivery::stray;
    auto& s = slots_[id];
    if (s.sender.load(std::memory_order_relaxed) == receiver)
      return delivery::stray;
    if (s.remaining.load(std::memory_order_relaxed) <= 0)
      return delivery::extra;
    auto last = s.last_ns.load(std::memory_order_relaxed);
    while (
      last < t
      && !s.last_ns.compare_exchange_weak(last, t, std::memory_order_acq_rel))
      ;
    auto before = s.remaining.fetch_sub(1, std::memory_order_acq_rel);
    if (before <= 0)
      return delivery::extra; // raced with the line's final delivery
    return before == 1 ? delivery::last : delivery::counted;
  }

  bool done(size_t id) const {
    return slots_[id].remaining.load(std::memory_order_acquire) <= 0;
  }

  // Send stamp to the latest delivery, of a line that is done.
  int64_t latency_ns(size_t id) const {
    return slots_[id].last_ns.load(std::memory_order_acquire)
           - slots_[id].sent_ns.load(std::memory_order_relaxed);
  }

private:
  line_slot* slots_;
  std::atomic<int64_t>* count_;
  size_t capacity_;
};

// What the coordinator (worker 0) asks of every worker, one at a time.
enum class command : int32_t {
  none,
  connect,
  settle,
  reset,
  probe,
  report,
  exit
};

// What one worker tells the others: its counts (copied at every turn of its
// loop) and the last command it carried out. A cache line of its own.
struct alignas(64) worker_slot {
  std::atomic<int32_t> open{0};
  std::atomic<int32_t> failed{0};
  std::atomic<int32_t> dropped{0};
  std::atomic<int64_t> deliveries{0};
  std::atomic<int64_t> extra{0};
  std::atomic<int32_t> done_seq{0};
  std::atomic<int32_t> ok{0};
};

// The command word: `seq` is raised last, so a worker that sees it changed
// reads the command and argument that came with it.
struct alignas(64) control {
  std::atomic<int32_t> seq{0};
  std::atomic<int32_t> cmd{0};
  std::atomic<int64_t> arg{0};
  // Set by the coordinator when the run fails: every worker leaves.
  std::atomic<int32_t> abort{0};
  std::atomic<int64_t> lines{0};
};

static_assert(std::atomic<int64_t>::is_always_lock_free
                && std::atomic<int32_t>::is_always_lock_free,
              "shared counters must be lock-free to work across processes");

// The region: control, then W worker slots, then the line slots. Pages of
// lines are only touched as lines are started.
class shared_run {
public:
  static constexpr size_t line_capacity = size_t{1} << 22;

  // Maps and constructs it; nullptr if mmap fails.
  static shared_run* create(int workers) {
    auto bytes = sizeof(shared_run) + sizeof(worker_slot) * workers
                 + sizeof(line_slot) * line_capacity;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      return nullptr;
    // The line slots are not constructed (that would touch every page):
    // zero-filled pages already hold atomics of value 0.
    return new (p) shared_run(workers);
  }

  int workers() const {
    return workers_;
  }
  control& ctl() {
    return ctl_;
  }
  worker_slot& worker(int w) {
    return workers_at()[w];
  }
  line_table lines() {
    return {reinterpret_cast<line_slot*>(workers_at() + workers_), &ctl_.lines,
            line_capacity};
  }

private:
  explicit shared_run(int workers) : workers_(workers) {
    for (int w = 0; w < workers; ++w)
      new (workers_at() + w) worker_slot;
  }
  worker_slot* workers_at() {
    return reinterpret_cast<worker_slot*>(this + 1);
  }

  control ctl_;
  int workers_;
};

static_assert(sizeof(shared_run) % alignof(worker_slot) == 0
                && sizeof(worker_slot) % alignof(line_slot) == 0,
              "the region's parts follow one another aligned");

} // namespace chat_bench

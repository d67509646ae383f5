#pragma once

#include <list>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace runtime {

/// CAF's work sharing (one central queue, workers that block while it is
/// empty), waking a worker after the queue's lock is released instead of
/// while holding it.
///
/// Why: CAF 0.17's work_sharing notifies under the lock. On a busy core
/// the woken worker is scheduled at once, finds the lock still held,
/// sleeps on it and must be woken a second time: three context switches
/// for each job handed over instead of one. Every chat line is handed over
/// from the Asio thread to a worker, so this is paid per line.
class prompt_sharing : public caf::policy::work_sharing {
public:
  template <class Coordinator>
  void enqueue(Coordinator* self, caf::resumable* job) {
    queue_type one;
    one.push_back(job);
    auto& data = d(self);
    {
      std::lock_guard<std::mutex> guard{data.lock};
      data.queue.splice(data.queue.end(), one);
    }
    data.cv.notify_one();
  }

  // Each way in enqueues centrally, as work_sharing's do; restated so
  // that they call the enqueue above.
  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    enqueue(self, job);
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }
};

/// Makes `cfg`'s actor system schedule with prompt_sharing.
inline void use_prompt_sharing(caf::actor_system_config& cfg) {
  cfg.module_factories.push_back(
    [](caf::actor_system& sys) -> caf::actor_system::module* {
      return new caf::scheduler::coordinator<prompt_sharing>(sys);
    });
}

} // namespace runtime

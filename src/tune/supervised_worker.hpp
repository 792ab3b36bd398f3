// A worker process the tuner can always talk to: started on first use, replaced after it crashes,
// stops answering within a timeout, or asks to be replaced. A request that kills or hangs the worker
// comes back as a failed outcome naming what happened; the tuner records it and goes on.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tune/worker_process.hpp"
#include "tune/worker_protocol.hpp"

namespace fp8kit::tune {

// A worker's exit code for "lost, not faulted": a remote worker whose node or actor died (the Ray
// bridge, python/fp8kit/ray_tune.py). The request in flight is sent again to a fresh worker.
inline constexpr int kWorkerLostExitCode = 75;
inline constexpr int kLostWorkerRetries = 3;

struct WorkerTimeouts {
  std::chrono::milliseconds start{120'000};    // until the hello
  std::chrono::milliseconds measure{60'000};   // one candidate: compile (cache hit) + verify + time
  std::chrono::milliseconds compile{900'000};  // a batch compiled in parallel
};

class SupervisedWorker {
 public:
  SupervisedWorker(WorkerCommand command, WorkerTimeouts timeouts);
  ~SupervisedWorker();

  // Starts the worker if none runs and returns its hello. Throws fp8kit::Error when the worker
  // reports it cannot run here (its exit code's kind), or dies before its hello 3 times in a row.
  const WorkerHello& hello();

  struct Outcome {
    std::optional<nlohmann::json> reply;  // the worker's answer
    std::string failure;                   // else what happened: "worker killed by signal 11 ...", "timed out ..."
  };
  Outcome call(const nlohmann::json& request, std::chrono::milliseconds timeout);  // retries lost workers

  const WorkerTimeouts& timeouts() const { return timeouts_; }
  int restarts() const { return restarts_; }  // workers replaced after a failure
  void stop();                                // asks the worker to quit, kills it if it lingers

 private:
  void start();
  void discard();  // kills the current worker; the next call starts another
  Outcome call_once(const nlohmann::json& request, std::chrono::milliseconds timeout, bool& lost);

  WorkerCommand command_;
  WorkerTimeouts timeouts_;
  std::unique_ptr<WorkerProcess> process_;
  WorkerHello hello_;
  int restarts_ = 0;
};

}  // namespace fp8kit::tune

// `fp8kit tune --ray ADDRESS`: the tuner's workers on the GPUs of a Ray cluster. Each runs behind a
// local bridge process (`python -m fp8kit.ray_tune bridge`, python/fp8kit/ray_tune.py) that places
// an actor on a node with a free GPU, runs the node's `fp8kit tune-worker` there and relays the
// protocol's lines; the supervisor treats the bridge as a local worker (timeouts, restarts). The
// tuner stays the coordinator and the single writer of files and journals.
#pragma once

#include <string>
#include <vector>

#include "tune/worker_process.hpp"

namespace fp8kit::tune {

struct RayWorkers {
  std::string address;             // ray.init's address: HOST:PORT of the cluster's head
  std::string resource;            // empty: one GPU per worker; else one unit of this custom resource
  std::string python = "python3";  // a Python with fp8kit and Ray ($FP8KIT_RAY_PYTHON)
};

// One bridged worker per slot of the cluster (its GPUs, or units of `resource`). Throws
// fp8kit::Error(kEnvironment) when the cluster cannot be reached or has no slot.
std::vector<WorkerCommand> ray_worker_commands(const RayWorkers& ray, const WorkerCommand& worker);

}  // namespace fp8kit::tune

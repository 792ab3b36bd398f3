// A CandidateMeasurer without a GPU, for testing the tuner's machinery on the CPU: times come from
// the cost model with a deterministic per-kernel perturbation (so the model's order is not the
// truth), and faults are planted on purpose by kernel-name substring. Spec, comma-separated:
//   crash=SUB   the worker dies of SIGSEGV measuring a matching config (as a kernel fault would)
//   hang=SUB    the worker never answers for a matching config
//   fail=SUB    a matching config fails verification (a failed reply; the worker lives on)
//   sleep-ms=N  each measurement takes N ms of wall time
//   fast-first=NAME  the first measurement of the config of exactly this kernel name (per worker
//               process) reads 0.6 of its time: the one-off fast outlier timing noise can give
//   device=NAME the device name in the hello (default "Fake GPU"); sm-count=N (default 132);
//               A|B|... names one per worker by its CUDA_VISIBLE_DEVICES (a mixed host), and
//               $FP8KIT_FAKE_DEVICE overrides it (a node of a test cluster)
//   no-gpu      the hello reports "no CUDA device" (exit code 3)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tune/worker_loop.hpp"

namespace fp8kit::tune {

struct FakeWorkerSpec {
  std::vector<std::string> crash, hang, fail;
  std::string fast_first;
  int sleep_ms = 0;
  std::string device = "Fake GPU";
  int sm_count = 132;
  bool no_gpu = false;
};
// Throws kInvalidArgument naming an unknown key.
FakeWorkerSpec parse_fake_worker_spec(std::string_view spec);

// The hello's device: $FP8KIT_FAKE_DEVICE if set, else the spec's name, or of A|B|... the one at
// the first visible GPU's index (modulo the count).
std::string fake_device_name(const std::string& spec_device, const char* env_device, const char* visible);

// The fake's time in µs for a config (what a tune with this fake must find the minimum of):
// predicted_us, the tuner's own order, with a per-config jitter of up to 15%.
double fake_time_us(const GemmShape& shape, const GemmConfig& config, int sm_count);
// A cold measurement (MeasureRequest::cold) takes this much longer on the fake: tests see the flag arrive.
inline constexpr double kFakeColdFactor = 1.25;
inline constexpr double kFakeFastFirstFactor = 0.6;  // fast-first=NAME
// The fake's default heuristic: block_m 64 up to M = 64, else 128 with 2 warpgroups; block_n 128.
GemmConfig fake_default_config(const GemmShape& shape, const GemmConfig& base);

class FakeMeasurer : public CandidateMeasurer {
 public:
  explicit FakeMeasurer(FakeWorkerSpec spec) : spec_(std::move(spec)) {}
  WorkerHello hello() override;
  std::map<std::string, std::string> compile(const std::vector<GemmConfig>& configs) override;
  GemmConfig default_config(const GemmShape& shape, const GemmConfig& base) override;
  double measure_us(const GemmShape& shape, const GemmConfig& config, bool cold) override;

 private:
  FakeWorkerSpec spec_;
  bool fast_first_done_ = false;
};

}  // namespace fp8kit::tune

// One child process spoken to through pipes, one line at a time: the tuner's handle on a worker.
// POSIX only. posix_spawn (not fork) so that starting one from any thread of the tuner is safe;
// every pipe end is close-on-exec, so a worker never holds another worker's pipes open (EOF on a
// dead worker's stdout must arrive).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp8kit::tune {

struct WorkerCommand {
  std::vector<std::string> argv;                            // argv[0] is the executable's path
  std::vector<std::pair<std::string, std::string>> env;     // set (or replaced) in the child's environment
};

class WorkerProcess {
 public:
  // Starts the child with its stdin and stdout on pipes (stderr inherited). Throws
  // fp8kit::Error(kEnvironment) when it cannot be spawned.
  explicit WorkerProcess(const WorkerCommand& command);
  ~WorkerProcess();  // kills and reaps the child if it still runs
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Writes `line` + '\n'; false when the child no longer reads (it died).
  bool send_line(std::string_view line);

  enum class ReadStatus { kLine, kEof, kTimeout };
  // The next line (without '\n') within `timeout`; kEof when the child closed its stdout.
  ReadStatus read_line(std::string& line, std::chrono::milliseconds timeout);

  // SIGKILL (if still running) and reap; idempotent.
  void kill_and_reap();
  // Reaps the child, waiting at most `timeout` for it to exit on its own; false if it did not.
  bool wait_exit(std::chrono::milliseconds timeout);
  // "exited with code 3", "killed by signal 11 (Segmentation fault)", or "running".
  std::string exit_description() const;
  // The exit code once reaped after a normal exit, else nothing (running, or killed by a signal).
  std::optional<int> exit_code() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  std::optional<int> status_;  // waitpid status once reaped
};

}  // namespace fp8kit::tune

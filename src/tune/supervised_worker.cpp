#include "tune/supervised_worker.hpp"

#include <fmt/format.h>

namespace fp8kit::tune {
namespace {

constexpr int kStartAttempts = 3;
std::string seconds_text(std::chrono::milliseconds t) { return fmt::format("{:g} s", static_cast<double>(t.count()) / 1000.0); }

}  // namespace

SupervisedWorker::SupervisedWorker(WorkerCommand command, WorkerTimeouts timeouts)
    : command_(std::move(command)), timeouts_(timeouts) {}

SupervisedWorker::~SupervisedWorker() { stop(); }

void SupervisedWorker::start() {
  std::string last_failure;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto process = std::make_unique<WorkerProcess>(command_);
    std::string line;
    const auto status = process->read_line(line, timeouts_.start);
    if (status == WorkerProcess::ReadStatus::kLine) {
      WorkerHello hello;
      try {
        hello = hello_from_json(nlohmann::json::parse(line));
      } catch (const std::exception& e) {
        process->kill_and_reap();
        throw Error(ErrorKind::kEnvironment, fmt::format("tune worker: bad hello '{}': {}", line, e.what()));
      }
      if (!hello.error.empty()) {
        process->wait_exit(std::chrono::milliseconds(2000));
        process->kill_and_reap();
        const auto kind = hello.exit_code == 2 ? ErrorKind::kInvalidArgument
                          : hello.exit_code == 1 ? ErrorKind::kCheckFailed : ErrorKind::kEnvironment;
        throw Error(kind, fmt::format("tune worker: {}", hello.error));
      }
      hello_ = std::move(hello);
      process_ = std::move(process);
      return;
    }
    if (status == WorkerProcess::ReadStatus::kTimeout) {
      process->kill_and_reap();
      last_failure = fmt::format("no hello within {}", seconds_text(timeouts_.start));
    } else {
      process->wait_exit(std::chrono::milliseconds(2000));
      process->kill_and_reap();
      last_failure = fmt::format("it {} before its hello", process->exit_description());
    }
  }
  throw Error(ErrorKind::kEnvironment,
              fmt::format("tune worker ({}) failed to start {} times: {}", command_.argv.front(), kStartAttempts, last_failure));
}

const WorkerHello& SupervisedWorker::hello() {
  if (!process_) start();
  return hello_;
}

void SupervisedWorker::discard() {
  if (!process_) return;
  process_->kill_and_reap();
  process_.reset();
  ++restarts_;
}

SupervisedWorker::Outcome SupervisedWorker::call(const nlohmann::json& request, std::chrono::milliseconds timeout) {
  for (int attempt = 0;; ++attempt) {
    bool lost = false;
    Outcome out = call_once(request, timeout, lost);
    if (!lost || attempt == kLostWorkerRetries) return out;
  }
}

SupervisedWorker::Outcome SupervisedWorker::call_once(const nlohmann::json& request, std::chrono::milliseconds timeout,
                                                      bool& lost) {
  hello();
  Outcome out;
  const bool sent = process_->send_line(request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::string line;
  const auto status = sent ? process_->read_line(line, timeout) : WorkerProcess::ReadStatus::kEof;
  if (status == WorkerProcess::ReadStatus::kLine) {
    try {
      out.reply = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      out.failure = fmt::format("worker sent a corrupt reply: {}", e.what());
      discard();
      return out;
    }
    if (out.reply->value("restart", false)) {
      process_->wait_exit(std::chrono::milliseconds(5000));
      discard();
    }
    return out;
  }
  if (status == WorkerProcess::ReadStatus::kTimeout) {
    out.failure = fmt::format("worker timed out after {} (killed and restarted)", seconds_text(timeout));
    discard();
    return out;
  }
  process_->wait_exit(std::chrono::milliseconds(5000));
  process_->kill_and_reap();
  lost = process_->exit_code() == kWorkerLostExitCode;
  out.failure = fmt::format("worker {}{} (restarted)", process_->exit_description(), lost ? ", lost with its node" : "");
  discard();
  return out;
}

void SupervisedWorker::stop() {
  if (!process_) return;
  process_->send_line(R"({"op":"quit"})");
  process_->wait_exit(std::chrono::milliseconds(2000));
  process_->kill_and_reap();
  process_.reset();
}

}  // namespace fp8kit::tune

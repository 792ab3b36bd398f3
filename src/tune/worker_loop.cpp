#include "tune/worker_loop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"

namespace fp8kit::tune {
namespace {

using nlohmann::json;

bool write_line(int fd, const json& j) {
  return write_all(fd, j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n") == 0;
}

// Reads one '\n'-terminated line; false at end of input.
bool read_line(int fd, std::string& buffer, std::string& line) {
  while (true) {
    if (const auto nl = buffer.find('\n'); nl != std::string::npos) {
      line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

json handle_measure(const json& request, CandidateMeasurer& measurer) {
  MeasureReply reply;
  try {
    const MeasureRequest r = measure_request_from_json(request);
    reply.config = r.use_default ? measurer.default_config(r.shape, r.base) : r.base;
    reply.us = measurer.measure_us(r.shape, *reply.config, r.cold);
    reply.ok = true;
  } catch (const std::exception& e) {
    reply.ok = false;
    reply.error = e.what();
  }
  reply.restart = !measurer.healthy();
  return to_json(reply);
}

json handle_compile(const json& request, CandidateMeasurer& measurer) {
  std::map<std::string, std::string> failed;
  try {
    for (const auto& [name, why] : measurer.compile(compile_request_configs(request))) failed[name] = why;
  } catch (const std::exception& e) {
    failed["*"] = e.what();
  }
  return compile_reply(failed);
}

}  // namespace

int serve_tune_worker(int in_fd, int out_fd, CandidateMeasurer& measurer) {
  WorkerHello hello;
  try {
    hello = measurer.hello();
  } catch (const Error& e) {
    hello.error = e.what();
    hello.exit_code = e.exit_code();
  } catch (const std::exception& e) {
    hello.error = e.what();
    hello.exit_code = 1;
  }
  if (!write_line(out_fd, to_json(hello))) return 1;
  if (!hello.error.empty()) return hello.exit_code;

  std::string buffer, line;
  while (read_line(in_fd, buffer, line)) {
    if (line.empty()) continue;
    json request;
    json reply;
    try {
      request = json::parse(line);
    } catch (const json::exception& e) {
      reply = {{"op", "error"}, {"error", fmt::format("not JSON: {}", e.what())}};
    }
    if (reply.is_null()) {
      const std::string op = request.is_object() ? request.value("op", "") : "";
      if (op == "quit") return 0;
      if (op == "measure") reply = handle_measure(request, measurer);
      else if (op == "compile") reply = handle_compile(request, measurer);
      else reply = {{"op", "error"}, {"error", fmt::format("unknown op '{}'", op)}};
    }
    if (!write_line(out_fd, reply)) return 1;
    if (!measurer.healthy()) return 0;  // the tuner starts a fresh worker
  }
  return 0;
}

int take_protocol_stdout() {
  // Close-on-exec: a tool the JIT may spawn must not keep the pipe open after the worker dies.
  const int protocol = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (protocol < 0) throw_environment(fmt::format("dup(stdout): {}", std::strerror(errno)));
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) throw_environment(fmt::format("dup2: {}", std::strerror(errno)));
  return protocol;
}

}  // namespace fp8kit::tune

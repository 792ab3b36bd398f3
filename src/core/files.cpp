#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "fp8kit/types.hpp"

namespace fp8kit {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

[[noreturn]] void throw_io(std::string_view what, const fs::path& path, int err) {
  throw_environment(fmt::format("cannot {} '{}': {}", what, path.string(), errno_text(err)));
}

// Closes on scope exit unless released; close errors on this path are already moot.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

void create_parent_dirs(const fs::path& path) {
  const fs::path parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw_environment(fmt::format("cannot create directory '{}': {}", parent.string(), ec.message()));
}

// Makes the rename itself durable; best effort, since some file systems refuse fsync on a dir.
void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // no progress: never spin
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

bool is_atomic_temp_name(std::string_view filename) {
  return filename.size() > 1 && filename.front() == '.' && filename.find(kTempMarker) != std::string_view::npos;
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  if (path.filename().empty()) throw_invalid_argument(fmt::format("write_file_atomic: '{}' names no file", path.string()));
  create_parent_dirs(path);

  // pid + per-process counter is unique among live writers; O_EXCL guards against a stale
  // leftover from a crashed process that had the same pid.
  static std::atomic<unsigned long> counter{0};
  fs::path temp;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 100 && raw_fd < 0; ++attempt) {
    temp = path.parent_path() / fmt::format(".{}{}{}-{}", path.filename().string(), kTempMarker,
                                            static_cast<long>(::getpid()), counter.fetch_add(1));
    raw_fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw_fd < 0 && errno != EEXIST) throw_io("create temporary file", temp, errno);
  }
  if (raw_fd < 0) throw_io("create temporary file", temp, EEXIST);

  Fd fd(raw_fd);
  auto fail = [&](std::string_view what, int err) {
    if (fd.get() >= 0) ::close(fd.release());
    ::unlink(temp.c_str());
    throw_environment(fmt::format("cannot write '{}' ({} '{}'): {}", path.string(), what, temp.string(),
                                  errno_text(err)));
  };
  if (const int err = write_all(fd.get(), content); err != 0) fail("write", err);
  if (::fsync(fd.get()) != 0) fail("fsync", errno);
  if (::close(fd.release()) != 0) fail("close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename", errno);
  fsync_directory(path.parent_path());
}

std::string read_file(const fs::path& path) {
  int raw_fd = -1;
  do {
    raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (raw_fd < 0 && errno == EINTR);
  if (raw_fd < 0) throw_io("read", path, errno);
  Fd fd(raw_fd);
  std::string out;
  std::array<char, 1 << 16> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("read", path, errno);
    }
    if (n == 0) break;
    out.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return out;
}

void append_line(const fs::path& path, std::string_view line) {
  if (line.find('\n') != std::string_view::npos) {
    throw_invalid_argument(fmt::format("append_line: the line for '{}' contains a newline", path.string()));
  }
  create_parent_dirs(path);
  const int raw_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (raw_fd < 0) throw_io("open for appending", path, errno);
  Fd fd(raw_fd);
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  // One write() is what keeps concurrent appenders from interleaving; a short write (disk full)
  // cannot be completed safely, so it is an error rather than a retry.
  ssize_t n = -1;
  do {
    n = ::write(fd.get(), buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_io("append to", path, errno);
  if (static_cast<std::size_t>(n) != buf.size()) {
    throw_environment(fmt::format("cannot append to '{}': short write ({} of {} bytes)", path.string(), n, buf.size()));
  }
  if (::close(fd.release()) != 0) throw_io("close", path, errno);
}

fs::path default_cache_dir() {
  if (std::string dir = env_or_empty("FP8KIT_CACHE_DIR"); !dir.empty()) return fs::path(dir);
  if (std::string xdg = env_or_empty("XDG_CACHE_HOME"); !xdg.empty() && fs::path(xdg).is_absolute()) {
    return fs::path(xdg) / "fp8kit";
  }
  if (std::string home = env_or_empty("HOME"); !home.empty()) return fs::path(home) / ".cache" / "fp8kit";
  throw_environment("no cache directory: set FP8KIT_CACHE_DIR (or XDG_CACHE_HOME or HOME)");
}

}  // namespace fp8kit

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/files.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {
namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "fp8kit-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> listing(const fs::path& d) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(d)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

// Runs fn and returns the fp8kit::Error it throws (or fails the test).
std::optional<Error> error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected fp8kit::Error";
  return std::nullopt;
}

TEST_F(FilesTest, WriteReadRoundTripsBinaryContent) {
  using namespace std::string_literals;
  const std::string content = "line 1\nbinary \0 and \xff bytes\0"s;
  ASSERT_EQ(content.size(), 28u);  // the embedded NULs are kept
  write_file_atomic(dir_ / "a.bin", content);
  EXPECT_EQ(read_file(dir_ / "a.bin"), content);
  write_file_atomic(dir_ / "empty", "");
  EXPECT_EQ(read_file(dir_ / "empty"), "");
}

TEST_F(FilesTest, CreatesParentDirectories) {
  const fs::path p = dir_ / "x" / "y" / "z.json";
  write_file_atomic(p, "{}");
  EXPECT_EQ(read_file(p), "{}");
}

TEST_F(FilesTest, OverwriteReplacesWholeFileAndLeavesNoTemporaries) {
  const fs::path p = dir_ / "config.json";
  write_file_atomic(p, std::string(10000, 'x'));
  for (int i = 0; i < 20; ++i) write_file_atomic(p, "short " + std::to_string(i));
  EXPECT_EQ(read_file(p), "short 19");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"config.json"});
}

TEST_F(FilesTest, FailedPublishRemovesTemporaryAndNamesPath) {
  // A non-empty directory at the target makes rename() fail after the temp file was written.
  const fs::path p = dir_ / "target";
  fs::create_directories(p / "occupied");
  const auto e = error_of([&] { write_file_atomic(p, "data"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);
  EXPECT_NE(std::string(e->what()).find(p.string()), std::string::npos) << e->what();
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"target"});
}

TEST_F(FilesTest, ParentThatIsAFileIsAnEnvironmentError) {
  write_file_atomic(dir_ / "plain", "x");
  const auto e = error_of([&] { write_file_atomic(dir_ / "plain" / "child", "y"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);
  EXPECT_NE(std::string(e->what()).find("plain"), std::string::npos) << e->what();
}

TEST_F(FilesTest, ReadErrorsNameThePathAndReason) {
  const fs::path missing = dir_ / "missing.json";
  auto e = error_of([&] { read_file(missing); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);
  EXPECT_NE(std::string(e->what()).find(missing.string()), std::string::npos) << e->what();
  EXPECT_NE(std::string(e->what()).find("No such file"), std::string::npos) << e->what();

  e = error_of([&] { read_file(dir_); });  // a directory opens but cannot be read
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);

  if (::geteuid() != 0) {  // root reads anything, so permissions only bite for other users
    const fs::path secret = dir_ / "secret";
    write_file_atomic(secret, "x");
    fs::permissions(secret, fs::perms::none);
    e = error_of([&] { read_file(secret); });
    ASSERT_TRUE(e);
    EXPECT_NE(std::string(e->what()).find("ermission denied"), std::string::npos) << e->what();
  }
}

TEST_F(FilesTest, StaleTemporaryFromACrashIsHarmless) {
  const fs::path p = dir_ / "entry.cubin";
  write_file_atomic(p, "old complete");
  // What a writer killed between write() and rename() leaves behind, with a plausible name.
  const std::string stale = ".entry.cubin.tmp-" + std::to_string(::getpid()) + "-0";
  {
    std::FILE* f = std::fopen((dir_ / stale).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("half", f);
    std::fclose(f);
  }
  EXPECT_TRUE(is_atomic_temp_name(stale));
  EXPECT_FALSE(is_atomic_temp_name("entry.cubin"));
  EXPECT_EQ(read_file(p), "old complete");
  write_file_atomic(p, "new complete");
  EXPECT_EQ(read_file(p), "new complete");
}

TEST_F(FilesTest, KilledWriterNeverLeavesAHalfFile) {
  // A child rewrites the target in a loop with two large contents; the parent reads it while the
  // child runs and then SIGKILLs it mid-stream. Every read must see one whole version.
  const fs::path p = dir_ / "big.bin";
  constexpr std::size_t kSize = 1 << 20;
  const std::string a(kSize, 'a'), b(kSize, 'b');
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Bounded, in case the parent dies before it can kill us.
    const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    try {
      for (unsigned i = 0; std::chrono::steady_clock::now() < stop; ++i) write_file_atomic(p, (i % 2) ? b : a);
    } catch (...) {
    }
    ::_exit(1);
  }
  // Kills and reaps the child on every path out of this test, failed assertions included.
  struct Reaper {
    pid_t pid;
    int status = 0;
    bool reaped = false;
    void kill_and_wait() {
      if (reaped) return;
      ::kill(pid, SIGKILL);
      reaped = ::waitpid(pid, &status, 0) == pid;
    }
    ~Reaper() { kill_and_wait(); }
  } reaper{child};
  auto is_whole = [&](const std::string& got) { return got.size() == kSize && (got == a || got == b); };

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!fs::exists(p) && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(fs::exists(p)) << "writer never published";
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(is_whole(read_file(p))) << "read " << i << " saw a partial file";
  reaper.kill_and_wait();
  ASSERT_TRUE(reaper.reaped);
  ASSERT_TRUE(WIFSIGNALED(reaper.status)) << "writer stopped before it was killed";
  EXPECT_TRUE(is_whole(read_file(p)));
  for (const auto& name : listing(dir_)) {
    if (name != "big.bin") {
      EXPECT_TRUE(is_atomic_temp_name(name)) << name;
    }
  }
}

TEST_F(FilesTest, AppendLineAppendsInOrderAndCreatesFile) {
  const fs::path p = dir_ / "sub" / "results.jsonl";
  append_line(p, "{\"a\":1}");
  append_line(p, "");
  append_line(p, "{\"b\":2}");
  EXPECT_EQ(read_file(p), "{\"a\":1}\n\n{\"b\":2}\n");
}

TEST_F(FilesTest, AppendLineRejectsEmbeddedNewline) {
  const auto e = error_of([&] { append_line(dir_ / "r.jsonl", "a\nb"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "r.jsonl"));
}

TEST_F(FilesTest, ConcurrentAppendersNeverInterleave) {
  const fs::path p = dir_ / "shared.jsonl";
  constexpr int kWriters = 8, kLines = 200;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      // Lines of a few KiB each, all of one letter, so any interleaving shows up as mixed letters.
      for (int i = 0; i < kLines; ++i) append_line(p, std::string(1000 + 37 * i, static_cast<char>('a' + w)));
    });
  }
  for (auto& t : writers) t.join();
  const std::string text = read_file(p);
  std::vector<int> count(kWriters, 0);
  std::size_t start = 0;
  int lines = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string_view line = std::string_view(text).substr(start, end - start);
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.find_first_not_of(line[0]), std::string_view::npos) << "interleaved line " << lines;
    ASSERT_EQ((line.size() - 1000) % 37, 0u);
    ++count[line[0] - 'a'];
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, kWriters * kLines);
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(count[w], kLines);
}

// Sets or unsets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(FilesCacheDirTest, PrecedenceOfEnvironmentVariables) {
  ScopedEnv env;
  env.set("FP8KIT_CACHE_DIR", "/tmp/explicit");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/user");
  EXPECT_EQ(default_cache_dir(), fs::path("/tmp/explicit"));
  env.set("FP8KIT_CACHE_DIR", "");  // empty counts as unset
  EXPECT_EQ(default_cache_dir(), fs::path("/xdg/fp8kit"));
  env.set("FP8KIT_CACHE_DIR", nullptr);
  EXPECT_EQ(default_cache_dir(), fs::path("/xdg/fp8kit"));
  env.set("XDG_CACHE_HOME", "relative/cache");  // the XDG spec says to ignore relative paths
  EXPECT_EQ(default_cache_dir(), fs::path("/home/user/.cache/fp8kit"));
  env.set("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(default_cache_dir(), fs::path("/home/user/.cache/fp8kit"));
  env.set("HOME", nullptr);
  const auto e = error_of([] { default_cache_dir(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);
  EXPECT_NE(std::string(e->what()).find("FP8KIT_CACHE_DIR"), std::string::npos);
}

}  // namespace
}  // namespace fp8kit

// The text helpers of result records: the ISO 8601 timestamp and the shell-quoted command line
// that every record's context carries.
#include <array>
#include <cstdio>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/result.hpp"

namespace fp8kit {
namespace {

TEST(ResultTimeTest, Iso8601UtcNow) {
  const std::time_t before = std::time(nullptr);
  const std::string s = iso8601_utc_now();
  const std::time_t after = std::time(nullptr);
  ASSERT_TRUE(std::regex_match(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << s;
  std::tm tm{};
  ASSERT_NE(::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr);
  const std::time_t parsed = ::timegm(&tm);
  EXPECT_GE(parsed, before);
  EXPECT_LE(parsed, after);
}

std::string command_of(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return shell_quote_command(static_cast<int>(argv.size()), argv.data());
}

TEST(ResultShellQuoteTest, PlainArgumentsStayReadable) {
  EXPECT_EQ(command_of({"fp8kit", "bench", "gemm", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--tp-sizes",
                        "1", "2", "--out=results.jsonl"}),
            "fp8kit bench gemm --models meta-llama/Llama-3.1-8B-Instruct --tp-sizes 1 2 --out=results.jsonl");
  EXPECT_EQ(command_of({"a b", "", "it's"}), "'a b' '' 'it'\\''s'");
  EXPECT_EQ(command_of({"X=1", "Y=2"}), "'X=1' Y=2");  // a leading X=1 would be an assignment
}

TEST(ResultShellQuoteTest, ShellReadsBackTheExactArguments) {
  const std::vector<std::string> args = {
      "it's", "a b", "", "$HOME", "`id`", "$(id)", "new\nline", "tab\there", "µ 🚀", "--m=128", "*", "a\"b",
      "\\", "!x", "#c", "~", ";", "&", "|", "<>", "{a,b}", "'", "''"};
  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string cmd = command_of(argv);
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  ASSERT_EQ(::pclose(pipe), 0) << cmd;
  std::vector<std::string> got;
  for (std::size_t start = 0; start < out.size();) {
    const std::size_t end = out.find('\0', start);
    ASSERT_NE(end, std::string::npos);
    got.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  EXPECT_EQ(got, args) << cmd;
}

}  // namespace
}  // namespace fp8kit

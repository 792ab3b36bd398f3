#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/files.hpp"
#include "core/result.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::optional<Error> error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected fp8kit::Error";
  return std::nullopt;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// NaN != NaN, so compare metrics bit for bit and everything else with ==.
void expect_same(const ResultRecord& a, const ResultRecord& b) {
  EXPECT_EQ(a.suite, b.suite);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.params, b.params);
  EXPECT_TRUE(a.context == b.context);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (const auto& [key, value] : a.metrics) {
    ASSERT_TRUE(b.metrics.count(key)) << key;
    const double other = b.metrics.at(key);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(other)) << key;
    } else {
      EXPECT_EQ(value, other) << key;
      EXPECT_EQ(std::signbit(value), std::signbit(other)) << key;
    }
  }
}

RunContext full_context() {
  RunContext c;
  c.device = "NVIDIA H100 80GB HBM3";
  c.device_uuid = "GPU-0a1b2c3d";
  c.compute_capability = "9.0";
  c.cuda_runtime = "13.0";
  c.cuda_driver = "13.0";
  c.nvrtc = "13.0";
  c.cublaslt = "13.0.0";
  c.fp8kit_version = "0.1.0";
  c.git_revision = "785f375-dirty";
  c.timing_mode = "graph";
  c.command_line = "fp8kit bench gemm --models 'a,b' --note \"x\"";
  c.date_utc = "2025-01-02T03:04:05Z";
  return c;
}

std::vector<ResultRecord> awkward_records() {
  ResultRecord a;
  a.suite = "gemm";
  a.name = "sm90_fp8_gemm_a-group128_b-block128_bf16_m128n128k128_s4_wg2_c1";
  a.params = {{"m", "16"}, {"n", "4096"}, {"k", "7168"}, {"dtype", "bf16"}};
  a.metrics = {{"us_median", 12.345678901234567}, {"tflops", 1.0 / 3.0}, {"tiny", 5e-324},
               {"huge", 1.7976931348623157e308}, {"neg_zero", -0.0}, {"whole", 100.0}};
  a.status = "ok";
  a.context = full_context();

  ResultRecord b;
  b.suite = "quant";
  b.name = "provider, with \"quotes\",\nnewline\r\n and \t tab \\ backslash";
  b.params = {{"note", "µs – Ωmega 🚀 日本"}, {"comma,key", "a,b"}, {"empty", ""}};
  b.metrics = {{"rel_error", std::numeric_limits<double>::quiet_NaN()},
               {"gbps", std::numeric_limits<double>::infinity()},
               {"delta", -std::numeric_limits<double>::infinity()}};
  b.status = "FAILED: mismatch at (0, 1): got 0x7f, want 0x7e";
  b.context.device = "none";  // device_uuid stays absent
  return {a, b};
}

class ResultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "fp8kit-result-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void write_raw(const fs::path& p, const std::string& text) { write_file_atomic(p, text); }
  fs::path dir_;
};

TEST_F(ResultTest, JsonRoundTripsAwkwardValues) {
  for (const ResultRecord& r : awkward_records()) expect_same(record_from_json(to_json(r)), r);
}

TEST_F(ResultTest, JsonLayout) {
  const json j = to_json(awkward_records()[1]);
  EXPECT_EQ(j.at("version"), kResultFormatVersion);
  EXPECT_EQ(j.at("metrics").at("rel_error"), "nan");
  EXPECT_EQ(j.at("metrics").at("gbps"), "inf");
  EXPECT_EQ(j.at("metrics").at("delta"), "-inf");
  EXPECT_FALSE(j.at("context").contains("device_uuid"));
  EXPECT_EQ(to_json(awkward_records()[0]).at("context").at("device_uuid"), "GPU-0a1b2c3d");
}

TEST_F(ResultTest, InvalidUtf8IsReplacedNotFatal) {
  // A command line may carry arbitrary bytes; the record must still be written.
  ResultRecord r = awkward_records()[0];
  r.context.command_line = "fp8kit --x \xff\xfe";
  const ResultRecord back = record_from_json(json::parse(to_jsonl_line(r)));
  EXPECT_EQ(back.context.command_line, "fp8kit --x \xef\xbf\xbd\xef\xbf\xbd");  // two U+FFFD
}

TEST_F(ResultTest, JsonlFileRoundTrip) {
  const fs::path p = dir_ / "results.jsonl";
  const auto records = awkward_records();
  for (const auto& r : records) {
    const std::string line = to_jsonl_line(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    append_jsonl(p, r);
  }
  const auto back = read_jsonl(p);
  ASSERT_EQ(back.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) expect_same(back[i], records[i]);
}

TEST_F(ResultTest, JsonlSkipsBlankLinesAndReadsEmptyFile) {
  const fs::path p = dir_ / "r.jsonl";
  write_raw(p, "");
  EXPECT_TRUE(read_jsonl(p).empty());
  const std::string line = to_jsonl_line(awkward_records()[0]);
  write_raw(p, "\n" + line + "\r\n  \n" + line + "\n");
  EXPECT_EQ(read_jsonl(p).size(), 2u);
}

TEST_F(ResultTest, CorruptJsonlLineIsReportedWithItsNumber) {
  const fs::path p = dir_ / "r.jsonl";
  const std::string good = to_jsonl_line(awkward_records()[0]);
  write_raw(p, good + "\n" + good + "\n{\"version\": 1, \"suite\": \n" + good + "\n");
  const auto e = error_of([&] { read_jsonl(p); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), p.string() + ":3:")) << e->what();
}

TEST_F(ResultTest, InvalidRecordInJsonlNamesLineAndField) {
  const fs::path p = dir_ / "r.jsonl";
  json bad = to_json(awkward_records()[0]);
  bad["context"].erase("nvrtc");
  write_raw(p, to_jsonl_line(awkward_records()[0]) + "\n" + bad.dump() + "\n");
  const auto e = error_of([&] { read_jsonl(p); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), ":2:")) << e->what();
  EXPECT_TRUE(contains(e->what(), "context.nvrtc")) << e->what();
}

TEST_F(ResultTest, TruncatedLastLineIsAnErrorNeverHalfUsed) {
  const fs::path p = dir_ / "r.jsonl";
  const std::string good = to_jsonl_line(awkward_records()[0]);
  // Cut mid-record, and also a complete record whose newline never made it: both are refused.
  for (const std::string& tail : {good.substr(0, good.size() / 2), good}) {
    write_raw(p, good + "\n" + tail);
    const auto e = error_of([&] { read_jsonl(p); });
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->what(), p.string() + ":2:")) << e->what();
    EXPECT_TRUE(contains(e->what(), "truncated")) << e->what();
  }
}

TEST_F(ResultTest, MissingFileIsAnEnvironmentError) {
  const auto e = error_of([&] { read_jsonl(dir_ / "nope.jsonl"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kEnvironment);
}

TEST_F(ResultTest, ValidationNamesTheField) {
  const json good = to_json(awkward_records()[0]);
  auto expect_rejected = [](const json& j, std::string_view field) {
    const auto e = error_of([&] { record_from_json(j); });
    ASSERT_TRUE(e) << field;
    EXPECT_EQ(e->kind(), ErrorKind::kInvalidArgument);
    EXPECT_TRUE(contains(e->what(), std::string("'") + std::string(field) + "'")) << e->what();
  };
  for (const char* key : {"version", "suite", "name", "status", "params", "metrics", "context"}) {
    json j = good;
    j.erase(key);
    expect_rejected(j, key);
  }
  for (const char* key : {"device", "compute_capability", "cuda_runtime", "cuda_driver", "nvrtc", "cublaslt",
                          "fp8kit_version", "git_revision", "timing_mode", "command_line", "date_utc"}) {
    json j = good;
    j["context"].erase(key);
    expect_rejected(j, std::string("context.") + key);
    j["context"][key] = 13;
    expect_rejected(j, std::string("context.") + key);
  }
  json j = good;
  j["version"] = 2;
  expect_rejected(j, "version");
  j = good;
  j["suite"] = "";
  expect_rejected(j, "suite");
  j = good;
  j["status"] = "OK";
  expect_rejected(j, "status");
  j = good;
  j["params"]["m"] = 16;
  expect_rejected(j, "params.m");
  j = good;
  j["metrics"]["tflops"] = "fast";
  expect_rejected(j, "metrics.tflops");
  j = good;
  j["metrics"] = json::array();
  expect_rejected(j, "metrics");
  j = good;
  j["context"]["device_uuid"] = false;
  expect_rejected(j, "context.device_uuid");
  const auto e = error_of([] { record_from_json(json::array()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidArgument);
}

TEST_F(ResultTest, NullDeviceUuidReadsAsAbsent) {
  json j = to_json(awkward_records()[0]);
  j["context"]["device_uuid"] = nullptr;
  EXPECT_FALSE(record_from_json(j).context.device_uuid.has_value());
  j["unknown_future_field"] = 1;  // ignored: additions need no version bump
  EXPECT_NO_THROW(record_from_json(j));
}

TEST_F(ResultTest, CsvGolden) {
  ResultRecord a;
  a.suite = "gemm";
  a.name = "cublaslt";
  a.status = "ok";
  a.params = {{"m", "16"}, {"n", "4096"}};
  a.metrics = {{"tflops", 512.5}, {"us_median", 3.25}};
  a.context.device = "H100";
  a.context.device_uuid = "GPU-1";
  a.context.compute_capability = "9.0";
  a.context.timing_mode = "graph";
  a.context.command_line = "fp8kit bench gemm --note 'a,b'";
  a.context.date_utc = "2025-01-02T03:04:05Z";
  ResultRecord b;
  b.suite = "gemm";
  b.name = "sm90, \"block\"\nfp8";
  b.status = "FAILED: mismatch at (0, 1)";
  b.params = {{"k", "7168"}, {"m", "16"}};
  b.metrics = {{"rel_error", 0.1}};
  b.context.device = "H100";
  const std::vector<ResultRecord> records = {a, b};
  const std::string expected =
      "suite,name,status,k,m,n,rel_error,tflops,us_median,device,device_uuid,compute_capability,"
      "cuda_runtime,cuda_driver,nvrtc,cublaslt,fp8kit_version,git_revision,timing_mode,command_line,"
      "date_utc\n"
      "gemm,cublaslt,ok,,16,4096,,512.5,3.25,H100,GPU-1,9.0,,,,,,,graph,"
      "\"fp8kit bench gemm --note 'a,b'\",2025-01-02T03:04:05Z\n"
      "gemm,\"sm90, \"\"block\"\"\nfp8\",\"FAILED: mismatch at (0, 1)\",7168,16,,0.1,,,H100,,,,,,,,,,,\n";
  EXPECT_EQ(to_csv(records), expected);
  EXPECT_EQ(to_csv({}),
            "suite,name,status,device,device_uuid,compute_capability,cuda_runtime,cuda_driver,nvrtc,"
            "cublaslt,fp8kit_version,git_revision,timing_mode,command_line,date_utc\n");
}

TEST_F(ResultTest, CsvQualifiesCollidingColumns) {
  ResultRecord r;
  r.suite = "tune";
  r.name = "x";
  r.status = "ok";
  r.params = {{"device", "1"}, {"k", "128"}};
  r.metrics = {{"k", 2.0}, {"name", 3.0}};
  const std::vector<ResultRecord> records = {r};
  const std::string csv = to_csv(records);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "suite,name,status,params.device,params.k,metrics.k,metrics.name,device,device_uuid,"
            "compute_capability,cuda_runtime,cuda_driver,nvrtc,cublaslt,fp8kit_version,git_revision,"
            "timing_mode,command_line,date_utc");
}

// A minimal RFC 4180 reader: the test's independent check that to_csv's quoting round-trips.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false, row_open = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
      row_open = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(cell));
      cell.clear();
      row_open = true;
    } else if (c == '\n') {
      rows.back().push_back(std::move(cell));
      cell.clear();
      rows.emplace_back();
      row_open = false;
    } else {
      cell += c;
      row_open = true;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  EXPECT_FALSE(row_open) << "last row lacks a newline";
  rows.pop_back();
  return rows;
}

TEST_F(ResultTest, CsvRoundTripsAwkwardValues) {
  const auto records = awkward_records();
  const fs::path p = dir_ / "out" / "results.csv";
  write_csv(p, records);
  const std::string text = read_file(p);
  EXPECT_EQ(text, to_csv(records));
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), 1 + records.size());
  const auto& header = rows[0];
  for (const auto& row : rows) ASSERT_EQ(row.size(), header.size());
  auto cell = [&](std::size_t r, const std::string& column) -> std::string {
    const auto it = std::find(header.begin(), header.end(), column);
    EXPECT_NE(it, header.end()) << column;
    return it == header.end() ? "" : rows[r][static_cast<std::size_t>(it - header.begin())];
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const ResultRecord& r = records[i];
    EXPECT_EQ(cell(i + 1, "suite"), r.suite);
    EXPECT_EQ(cell(i + 1, "name"), r.name);
    EXPECT_EQ(cell(i + 1, "status"), r.status);
    for (const auto& [k, v] : r.params) EXPECT_EQ(cell(i + 1, k), v) << k;
    for (const auto& [k, v] : r.metrics) {
      const std::string text_value = cell(i + 1, k);
      const double parsed = std::strtod(text_value.c_str(), nullptr);
      if (std::isnan(v)) {
        EXPECT_EQ(text_value, "nan");
      } else {
        EXPECT_EQ(parsed, v) << k << " = " << text_value;
        EXPECT_EQ(std::signbit(parsed), std::signbit(v)) << k;
      }
    }
    EXPECT_EQ(cell(i + 1, "command_line"), r.context.command_line);
    EXPECT_EQ(cell(i + 1, "device_uuid"), r.context.device_uuid.value_or(""));
  }
}

}  // namespace
}  // namespace fp8kit

// File I/O with the guarantees DESIGN.md §8 asks for: files are published atomically, a reader
// never sees half a file, and every failure is an fp8kit::Error(kEnvironment) naming the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace fp8kit {

// Writes `content` to a unique temporary file beside `path`, fsyncs it and renames it into place,
// so readers see either the old file or the whole new one. Creates missing parent directories.
// Temporaries are named ".<filename>.tmp-<pid>-<n>" so that listings can skip them.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// The whole file as bytes.
std::string read_file(const std::filesystem::path& path);

// Appends `line` + '\n' in a single O_APPEND write(), so lines from concurrent writers (threads or
// processes) never interleave. `line` must not contain '\n' (kInvalidArgument). Creates missing
// parent directories.
void append_line(const std::filesystem::path& path, std::string_view line);

// $FP8KIT_CACHE_DIR, else $XDG_CACHE_HOME/fp8kit (if absolute, per the XDG spec), else
// $HOME/.cache/fp8kit. Empty variables count as unset; throws kEnvironment when none is usable.
std::filesystem::path default_cache_dir();

// Writes all of `data` to `fd` (a file or a pipe), retrying short writes and EINTR. Returns 0 or
// an errno value.
int write_all(int fd, std::string_view data);

// True for the names write_file_atomic gives its temporaries.
bool is_atomic_temp_name(std::string_view filename);

}  // namespace fp8kit

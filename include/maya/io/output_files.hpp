// Writing output files so that nobody sees half of one: each file goes to a temporary file in the
// same directory and is renamed over its target only once fully written, and a set of files is
// written all-or-nothing (every temporary is written before the first rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "maya/core/error.hpp"

namespace maya::io {

// maya::FileError, reachable where io's users have always named it.
using maya::FileError;

// Reads a whole file; throws FileError naming the path and the system's reason.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

// Writes `contents` to `path` through a temporary file in the same directory and a rename. On
// any failure the temporary is removed, `path` is untouched and FileError is thrown.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Throws FileError unless `directory` is (or could be created as) a writable directory. Creates
// nothing that outlives the call; meant to fail fast before a long computation.
void check_output_directory(const std::filesystem::path& directory);

// Files staged in memory and written to one directory together.
class OutputFiles {
 public:
  explicit OutputFiles(std::filesystem::path directory) : directory_(std::move(directory)) {}

  // Stages a file; `name` is a plain file name (no separators).
  void add(std::string name, std::string contents);
  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }
  [[nodiscard]] std::vector<std::string> names() const;

  // Creates the directory (and parents) if needed, writes every file to a temporary, keeps a hard
  // link to each file it replaces, then renames the temporaries into place. All or nothing: on
  // failure the old files come back, the temporaries and any directory it created are removed,
  // and FileError is thrown. SIGINT, SIGTERM or SIGHUP during the commit is held until the files
  // are consistent (rolled back if it came before the last rename), then raised again. Returns
  // the written paths.
  std::vector<std::filesystem::path> commit() const;

 private:
  struct Staged {
    std::string name;
    std::string contents;
  };
  std::filesystem::path directory_;
  std::vector<Staged> files_;
};

}  // namespace maya::io

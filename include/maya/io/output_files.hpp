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

// A file or directory that cannot be read or written (missing input, unwritable output).
class FileError : public Error {
 public:
  using Error::Error;
};

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

  // Creates the directory (and parents) if needed, writes every file to a temporary, then renames
  // them into place. On failure removes the temporaries and any directory it created, and throws
  // FileError. Returns the written paths.
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

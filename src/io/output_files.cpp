// Temporary-file-and-rename writes with POSIX calls (mkstemp, fsync, rename), so a crash or an
// error never leaves a truncated output where a complete one was expected.
#include "maya/io/output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace maya::io {
namespace {

namespace fs = std::filesystem;

std::string system_reason(int error_number) { return std::strerror(error_number); }

[[noreturn]] void fail(std::string_view what, const fs::path& path, int error_number) {
  throw FileError(std::string(what) + " '" + path.string() + "': " + system_reason(error_number));
}

// A file `<dir>/.<name>.XXXXXX.tmp` holding `contents`, flushed to disk; returns its path.
fs::path write_temporary(const fs::path& target, std::string_view contents) {
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string pattern = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    fail("cannot write", target, errno);
  }
  const fs::path temporary(pattern);
  const auto give_up = [&](int error_number) {
    ::close(fd);
    ::unlink(temporary.c_str());
    fail("cannot write", target, error_number);
  };
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      give_up(errno);
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  // mkstemp makes the file 0600; outputs are ordinary files anyone may read.
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    give_up(errno);
  }
  if (::close(fd) != 0) {
    const int error_number = errno;
    ::unlink(temporary.c_str());
    fail("cannot write", target, error_number);
  }
  return temporary;
}

void rename_into_place(const fs::path& temporary, const fs::path& target) {
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error_number = errno;
    ::unlink(temporary.c_str());
    fail("cannot write", target, error_number);
  }
}

// The first ancestor of `path` (itself included) that exists, or "." for a relative path none of
// whose ancestors exist.
fs::path nearest_existing(const fs::path& path) {
  fs::path current = path;
  std::error_code error;
  while (!current.empty() && !fs::exists(current, error)) {
    current = current.parent_path();
  }
  return current.empty() ? fs::path(".") : current;
}

}  // namespace

std::string read_file(const fs::path& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    throw FileError("cannot read '" + path.string() + "': it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail("cannot read", path, errno != 0 ? errno : ENOENT);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    fail("cannot read", path, errno);
  }
  return std::move(contents).str();
}

void write_file_atomically(const fs::path& path, std::string_view contents) {
  rename_into_place(write_temporary(path, contents), path);
}

void check_output_directory(const fs::path& directory) {
  std::error_code error;
  if (fs::exists(directory, error)) {
    if (!fs::is_directory(directory, error)) {
      throw FileError("output directory '" + directory.string() + "' is not a directory");
    }
  }
  const fs::path existing = nearest_existing(directory);
  if (!fs::is_directory(existing, error)) {
    throw FileError("cannot create output directory '" + directory.string() + "': '" +
                    existing.string() + "' is not a directory");
  }
  // Probe by creating and removing a file: access(W_OK) is wrong for root and read-only mounts.
  std::string pattern = (existing / ".maya-probe.XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    const int error_number = errno;
    if (existing == directory) {
      fail("cannot write to output directory", directory, error_number);
    }
    throw FileError("cannot create output directory '" + directory.string() + "': '" +
                    existing.string() + "': " + system_reason(error_number));
  }
  ::close(fd);
  ::unlink(pattern.c_str());
}

void OutputFiles::add(std::string name, std::string contents) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw ValueError("OutputFiles::add: '" + name + "' is not a plain file name");
  }
  files_.push_back({std::move(name), std::move(contents)});
}

std::vector<std::string> OutputFiles::names() const {
  std::vector<std::string> result;
  for (const Staged& file : files_) {
    result.push_back(file.name);
  }
  return result;
}

std::vector<fs::path> OutputFiles::commit() const {
  check_output_directory(directory_);
  // Remember which directories we create, so a failure can take them away again.
  std::vector<fs::path> created;
  for (fs::path current = directory_; !current.empty(); current = current.parent_path()) {
    std::error_code error;
    if (fs::exists(current, error)) {
      break;
    }
    created.push_back(current);
    if (current == current.parent_path()) {
      break;
    }
  }
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    throw FileError("cannot create output directory '" + directory_.string() +
                    "': " + error.message());
  }
  std::vector<fs::path> temporaries;
  const auto roll_back = [&] {
    for (const fs::path& temporary : temporaries) {
      ::unlink(temporary.c_str());
    }
    for (const fs::path& directory : created) {  // innermost first
      std::error_code ignored;
      fs::remove(directory, ignored);
    }
  };
  try {
    for (const Staged& file : files_) {
      temporaries.push_back(write_temporary(directory_ / file.name, file.contents));
    }
  } catch (...) {
    roll_back();
    throw;
  }
  std::vector<fs::path> written;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    const fs::path target = directory_ / files_[i].name;
    if (::rename(temporaries[i].c_str(), target.c_str()) != 0) {
      const int error_number = errno;
      for (std::size_t j = i; j < temporaries.size(); ++j) {
        ::unlink(temporaries[j].c_str());
      }
      fail("cannot write", target, error_number);
    }
    written.push_back(target);
  }
  return written;
}

}  // namespace maya::io

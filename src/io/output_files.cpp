// Temporary-file-and-rename writes with POSIX calls (mkstemp, fsync, rename), so a crash or an
// error never leaves a truncated output where a complete one was expected.
#include "maya/io/output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace maya::io {
namespace {

namespace fs = std::filesystem;

// The signal (SIGINT, SIGTERM, SIGHUP) that arrived while files were being committed, or 0. The
// handler only records it; the commit then rolls back and re-raises it once its files are
// consistent again, so neither a temporary nor a half-replaced set of files outlives the process.
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void record_interruption(int signal_number) { g_interrupted = signal_number; }

int interrupted() noexcept { return g_interrupted; }

constexpr int kInterruptions[] = {SIGINT, SIGTERM, SIGHUP};

// While alive, interruptions are recorded instead of ending the process; on destruction the old
// handlers come back and a recorded interruption is raised again (ending the process as it
// would have, after the files are consistent).
class InterruptGuard {
 public:
  InterruptGuard() {
    if (depth_++ > 0) return;  // nested (a commit checks its directory): the outer one acts
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = record_interruption;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kInterruptions); ++i) {
      ::sigaction(kInterruptions[i], &action, &previous_[i]);
    }
  }
  ~InterruptGuard() {
    if (--depth_ > 0) return;
    for (std::size_t i = 0; i < std::size(kInterruptions); ++i) {
      ::sigaction(kInterruptions[i], &previous_[i], nullptr);
    }
    if (const int signal_number = g_interrupted; signal_number != 0) {
      g_interrupted = 0;
      std::raise(signal_number);
    }
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  static inline std::atomic<int> depth_{0};  // guards alive, over all threads
  static inline struct sigaction previous_[std::size(kInterruptions)]{};
};

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
    if (interrupted() != 0) {
      give_up(EINTR);
    }
    // In chunks, so an interruption is noticed within a few milliseconds.
    const ssize_t written = ::write(fd, data, std::min<std::size_t>(left, std::size_t{1} << 22));
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
  const InterruptGuard guard;
  rename_into_place(write_temporary(path, contents), path);
}

void check_output_directory(const fs::path& directory) {
  const InterruptGuard guard;  // the probe file below must not outlive an interruption
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
  const InterruptGuard guard;
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
  std::vector<fs::path> backups(files_.size());  // a hard link to each target that existed
  std::size_t renamed = 0;
  const auto roll_back = [&] {
    // Undo the renames newest first: an old file comes back from its backup, a new one goes.
    for (std::size_t i = renamed; i-- > 0;) {
      const fs::path target = directory_ / files_[i].name;
      if (!backups[i].empty()) {
        (void)::rename(backups[i].c_str(), target.c_str());
      } else {
        (void)::unlink(target.c_str());
      }
    }
    for (std::size_t i = renamed; i < temporaries.size(); ++i) {
      (void)::unlink(temporaries[i].c_str());
    }
    for (std::size_t i = renamed; i < backups.size(); ++i) {
      if (!backups[i].empty()) (void)::unlink(backups[i].c_str());
    }
    for (const fs::path& directory : created) {  // innermost first
      std::error_code ignored;
      fs::remove(directory, ignored);
    }
  };
  const auto check_interruption = [&] {
    if (interrupted() != 0) {
      throw FileError("writing to '" + directory_.string() + "' was interrupted by a signal");
    }
  };
  try {
    // A target that is not a regular file (a directory, say) cannot be replaced: find out before
    // anything is replaced.
    for (const Staged& file : files_) {
      const fs::path target = directory_ / file.name;
      std::error_code status_error;
      const fs::file_status status = fs::symlink_status(target, status_error);
      if (fs::exists(status) && !fs::is_regular_file(status)) {
        throw FileError("cannot write '" + target.string() + "': it exists and is not a file");
      }
    }
    for (const Staged& file : files_) {
      temporaries.push_back(write_temporary(directory_ / file.name, file.contents));
      check_interruption();
    }
    // Keep the old files reachable until every new one is in place.
    for (std::size_t i = 0; i < files_.size(); ++i) {
      const fs::path target = directory_ / files_[i].name;
      if (::access(target.c_str(), F_OK) != 0) continue;
      for (int attempt = 0; backups[i].empty(); ++attempt) {
        const fs::path backup =
            directory_ / ("." + files_[i].name + ".old" + std::to_string(::getpid()) + "_" +
                          std::to_string(attempt));
        if (::link(target.c_str(), backup.c_str()) == 0) {
          backups[i] = backup;
        } else if (errno != EEXIST || attempt > 100) {
          fail("cannot keep the old version of", target, errno);
        }
      }
    }
    check_interruption();
    for (; renamed < files_.size(); ++renamed) {
      const fs::path target = directory_ / files_[renamed].name;
      if (::rename(temporaries[renamed].c_str(), target.c_str()) != 0) {
        fail("cannot write", target, errno);
      }
      check_interruption();
    }
  } catch (...) {
    roll_back();
    throw;
  }
  std::vector<fs::path> written;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (!backups[i].empty()) (void)::unlink(backups[i].c_str());
    written.push_back(directory_ / files_[i].name);
  }
  return written;
}

}  // namespace maya::io

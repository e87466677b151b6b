#include "maya/io/output_files.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A fresh empty directory under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "maya-io-test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() { fs::remove_all(path_); }
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(path_)) {
      names.push_back(fs::relative(entry.path(), path_).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

}  // namespace

TEST(WriteFileAtomically, WritesContentsAndLeavesNoTemporary) {
  const ScratchDir dir;
  maya::io::write_file_atomically(dir.path() / "out.txt", "hello\n");
  EXPECT_EQ(maya::io::read_file(dir.path() / "out.txt"), "hello\n");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.txt"});
}

TEST(WriteFileAtomically, ReplacesAnExistingFile) {
  const ScratchDir dir;
  maya::io::write_file_atomically(dir.path() / "out.txt", "first");
  maya::io::write_file_atomically(dir.path() / "out.txt", "second");
  EXPECT_EQ(maya::io::read_file(dir.path() / "out.txt"), "second");
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(WriteFileAtomically, MissingDirectoryThrowsFileErrorNamingThePath) {
  const ScratchDir dir;
  try {
    maya::io::write_file_atomically(dir.path() / "missing" / "out.txt", "x");
    FAIL() << "expected FileError";
  } catch (const maya::io::FileError& error) {
    EXPECT_NE(std::string(error.what()).find("missing/out.txt"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ReadFile, MissingFileThrowsFileError) {
  EXPECT_THROW((void)maya::io::read_file("/nonexistent/maya/scene.json"), maya::io::FileError);
}

TEST(CheckOutputDirectory, AcceptsAnExistingOrCreatableDirectory) {
  const ScratchDir dir;
  EXPECT_NO_THROW(maya::io::check_output_directory(dir.path()));
  EXPECT_NO_THROW(maya::io::check_output_directory(dir.path() / "new" / "deeper"));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(CheckOutputDirectory, RejectsAPathThroughARegularFile) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_THROW(maya::io::check_output_directory(dir.path() / "file"), maya::io::FileError);
  EXPECT_THROW(maya::io::check_output_directory(dir.path() / "file" / "sub"), maya::io::FileError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"file"});
}

TEST(OutputFiles, CommitCreatesTheDirectoryAndEveryFile) {
  const ScratchDir dir;
  maya::io::OutputFiles files(dir.path() / "run" / "one");
  files.add("a.txt", "A");
  files.add("b.txt", "B");
  const auto written = files.commit();
  EXPECT_EQ(written.size(), 2u);
  EXPECT_EQ(maya::io::read_file(dir.path() / "run" / "one" / "b.txt"), "B");
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{"run", "run/one", "run/one/a.txt", "run/one/b.txt"}));
}

TEST(OutputFiles, FailedCommitLeavesNoTemporaryBehind) {
  const ScratchDir dir;
  fs::create_directory(dir.path() / "b.txt");  // a directory where a file should go
  maya::io::OutputFiles files(dir.path());
  files.add("a.txt", "A");
  files.add("b.txt", "B");
  files.add("c.txt", "C");
  EXPECT_THROW((void)files.commit(), maya::io::FileError);
  for (const std::string& name : dir.entries()) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
    EXPECT_NE(name.front(), '.') << name;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "c.txt"));
}

TEST(OutputFiles, CommitUnderARegularFileThrowsAndCreatesNothing) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "file") << "x";
  maya::io::OutputFiles files(dir.path() / "file" / "out");
  files.add("a.txt", "A");
  EXPECT_THROW((void)files.commit(), maya::io::FileError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"file"});
}

TEST(OutputFiles, RejectsNamesWithSeparators) {
  maya::io::OutputFiles files("somewhere");
  EXPECT_THROW(files.add("../escape.txt", "x"), maya::ValueError);
}

namespace {
std::string contents_of(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

// Regression: when one target could not be replaced, the files before it were already new.
TEST(OutputFiles, FailedCommitKeepsEveryOldFile) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "a.txt") << "old A";
  std::ofstream(dir.path() / "c.txt") << "old C";
  fs::create_directory(dir.path() / "b.txt");
  maya::io::OutputFiles files(dir.path());
  files.add("a.txt", "new A");
  files.add("b.txt", "new B");
  files.add("c.txt", "new C");
  EXPECT_THROW((void)files.commit(), maya::FileError);
  EXPECT_EQ(contents_of(dir.path() / "a.txt"), "old A");
  EXPECT_EQ(contents_of(dir.path() / "c.txt"), "old C");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.txt", "b.txt", "c.txt"}));
}

TEST(OutputFiles, SuccessfulCommitReplacesOldFilesAndLeavesNoBackup) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "a.txt") << "old A";
  maya::io::OutputFiles files(dir.path());
  files.add("a.txt", "new A");
  files.add("b.txt", "new B");
  (void)files.commit();
  EXPECT_EQ(contents_of(dir.path() / "a.txt"), "new A");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.txt", "b.txt"}));
}

// Regression: SIGTERM while large outputs were being written left hidden temporaries behind.
// A child process commits two large files over two old ones and is sent SIGTERM as soon as its
// first temporary appears: it must die by the signal (or finish first) with either both old or
// both new files, and nothing else, in the directory.
TEST(OutputFiles, InterruptedCommitLeavesOldOrNewFilesAndNoTemporary) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "a.bin") << "old";
  std::ofstream(dir.path() / "b.bin") << "old";
  const std::string big(std::size_t{64} << 20, 'x');
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    maya::io::OutputFiles files(dir.path());
    files.add("a.bin", big);
    files.add("b.bin", big);
    (void)files.commit();
    ::_exit(0);
  }
  bool temporary_seen = false;
  for (int poll = 0; poll < 20000 && !temporary_seen; ++poll) {
    for (const std::string& name : dir.entries()) temporary_seen |= name.front() == '.';
    if (!temporary_seen) ::usleep(100);
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) ? WTERMSIG(status) == SIGTERM : WEXITSTATUS(status) == 0);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.bin", "b.bin"}));
  const std::size_t a = fs::file_size(dir.path() / "a.bin");
  const std::size_t b = fs::file_size(dir.path() / "b.bin");
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a == 3 || a == big.size()) << a;
}

// The viewers that `maya simulate` writes (2-D scenes, 3-D robots), opened in headless Chromium:
// the screenshot is not blank and the drawn bodies move between two moments. Needs the test-only
// packages chromium and libpng-dev (scripts/bootstrap.sh --with-test-tools); skipped where they
// are missing.
#include <gtest/gtest.h>

// Built without the program (MAYA_BUILD_APPS=OFF), there is nothing to run.
#ifdef MAYA_CLI_PATH

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

#include "cli_support.hpp"

#ifdef MAYA_HAVE_PNG
#include <png.h>
#endif

namespace {

using maya::test::run_cli;
using maya::test::ScratchDir;
namespace fs = std::filesystem;

std::optional<fs::path> find_chromium() {
  const char* path = std::getenv("PATH");
  std::string directories = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= directories.size()) {
    const std::size_t end = std::min(directories.find(':', start), directories.size());
    for (const char* name : {"chromium", "chromium-browser"}) {
      const fs::path candidate = fs::path(directories.substr(start, end - start)) / name;
      if (::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    start = end + 1;
  }
  return std::nullopt;
}

struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgb;
};

#ifdef MAYA_HAVE_PNG
Image read_png(const fs::path& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Image result;
  if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
    ADD_FAILURE() << "cannot read " << path << ": " << image.message;
    return result;
  }
  image.format = PNG_FORMAT_RGB;
  result.width = static_cast<int>(image.width);
  result.height = static_cast<int>(image.height);
  result.rgb.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, result.rgb.data(), 0, nullptr) == 0) {
    ADD_FAILURE() << "cannot decode " << path << ": " << image.message;
  }
  return result;
}
#endif

// Pixels of the particles' fill colour (#4e79a7) and their centroid.
struct Blob {
  std::size_t pixels = 0;
  double x = 0.0;
  double y = 0.0;
};

Blob particle_blob(const Image& image) {
  Blob blob;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const unsigned char* p = &image.rgb[3 * (static_cast<std::size_t>(y) * image.width + x)];
      if (std::abs(p[0] - 78) < 14 && std::abs(p[1] - 121) < 14 && std::abs(p[2] - 167) < 14) {
        ++blob.pixels;
        blob.x += x;
        blob.y += y;
      }
    }
  }
  if (blob.pixels > 0) {
    blob.x /= static_cast<double>(blob.pixels);
    blob.y /= static_cast<double>(blob.pixels);
  }
  return blob;
}

// Pixels that differ from the most common colour (the background).
std::size_t drawn_pixels(const Image& image) {
  std::map<unsigned, std::size_t> histogram;
  for (std::size_t i = 0; i + 2 < image.rgb.size(); i += 3) {
    ++histogram[(image.rgb[i] << 16) | (image.rgb[i + 1] << 8) | image.rgb[i + 2]];
  }
  std::size_t most = 0;
  for (const auto& [colour, count] : histogram) {
    most = std::max(most, count);
  }
  return image.rgb.size() / 3 - most;
}

fs::path screenshot(const fs::path& chromium, const fs::path& page, const std::string& fragment,
                    const ScratchDir& dir, const std::string& name, bool let_it_play) {
  const fs::path profile = dir.path() / ("profile-" + name);
  fs::create_directory(profile);
  const fs::path png = dir.path() / (name + ".png");
  std::string command = "timeout 120 " + maya::test::quoted(chromium.string()) +
                        " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                        " --disable-background-networking --disable-component-update"
                        " --disable-sync --hide-scrollbars --user-data-dir=" +
                        maya::test::quoted(profile.string()) +
                        " --window-size=800,600 --screenshot=" + maya::test::quoted(png.string());
  if (let_it_play) {
    command += " --virtual-time-budget=1500";
  }
  command += " " + maya::test::quoted("file://" + page.string() + fragment) + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return png;
}

}  // namespace

TEST(ViewerInChromium, DrawsTheBodiesAndTheyMoveBetweenFrames) {
#ifndef MAYA_HAVE_PNG
  GTEST_SKIP() << "libpng-dev is missing: run scripts/bootstrap.sh --with-test-tools";
#else
  const std::optional<fs::path> chromium = find_chromium();
  if (!chromium) {
    GTEST_SKIP() << "chromium is missing: run scripts/bootstrap.sh --with-test-tools";
  }
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const auto result = run_cli(
      {"simulate", maya::test::example("lattice_drop.json").string(), "-q", "-o", out.string()},
      dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  const fs::path page = out / "viewer.html";

  const Image start = read_png(screenshot(*chromium, page, "#t=0", dir, "start", false));
  const Image later = read_png(screenshot(*chromium, page, "#t=0.8", dir, "later", false));
  const Image played = read_png(screenshot(*chromium, page, "", dir, "played", true));
  ASSERT_EQ(start.width, 800);
  ASSERT_EQ(start.height, 600);

  // Not blank: grid, ground, springs and particles cover a good part of the canvas.
  EXPECT_GT(drawn_pixels(start), 5000u);
  EXPECT_GT(drawn_pixels(played), 5000u);
  const Blob at_start = particle_blob(start);
  const Blob at_later = particle_blob(later);
  const Blob after_playing = particle_blob(played);
  ASSERT_GT(at_start.pixels, 100u);
  ASSERT_GT(at_later.pixels, 100u);
  ASSERT_GT(after_playing.pixels, 100u);
  // The lattice is thrown to the right and falls: its particles move right and down on screen.
  EXPECT_GT(at_later.x - at_start.x, 20.0);
  EXPECT_GT(at_later.y - at_start.y, 10.0);
  // Played for a while (virtual time) from t = 0, the picture is no longer the first frame.
  EXPECT_GT(std::hypot(after_playing.x - at_start.x, after_playing.y - at_start.y), 5.0);
#endif
}

#endif  // MAYA_CLI_PATH

#ifdef MAYA_CLI_PATH
namespace {

#ifdef MAYA_HAVE_PNG
// Strongly coloured pixels (the robot's bodies; the background and the grid are grey) and their
// centroid.
Blob coloured_blob(const Image& image) {
  Blob blob;
  for (int y = 0; y < image.height - 50; ++y) {  // above the control bar
    for (int x = 0; x < image.width; ++x) {
      const unsigned char* p = &image.rgb[3 * (static_cast<std::size_t>(y) * image.width + x)];
      const int high = std::max({p[0], p[1], p[2]}), low = std::min({p[0], p[1], p[2]});
      if (high - low > 40) {
        ++blob.pixels;
        blob.x += x;
        blob.y += y;
      }
    }
  }
  if (blob.pixels > 0) {
    blob.x /= static_cast<double>(blob.pixels);
    blob.y /= static_cast<double>(blob.pixels);
  }
  return blob;
}
#endif

}  // namespace

// `maya simulate ROBOT.urdf` writes a three.js page; WebGL runs on Chromium's software renderer.
// A quadruped dropped onto the ground: its bodies are drawn, and lower on screen after falling.
TEST(RobotViewerInChromium, DrawsTheRobotAndItFalls) {
#ifndef MAYA_HAVE_PNG
  GTEST_SKIP() << "libpng-dev is missing: run scripts/bootstrap.sh --with-test-tools";
#else
  const std::optional<fs::path> chromium = find_chromium();
  if (!chromium) {
    GTEST_SKIP() << "chromium is missing: run scripts/bootstrap.sh --with-test-tools";
  }
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const fs::path robot = fs::path(MAYA_SOURCE_DIR) / "examples" / "robots" / "quadruped.urdf";
  const auto result =
      run_cli({"simulate", robot.string(), "--floating-base", "--ground", "--height", "0.45",
               "--steps", "1200", "--dt", "5e-4", "-q", "-o", out.string()},
              dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  const std::string page = maya::test::slurp(out / "viewer.html");
  if (page.find("WebGLRenderer") == std::string::npos) {
    GTEST_SKIP() << "this maya was built without three.js (Debian: libjs-three)";
  }
  const auto shot = [&](const std::string& fragment, const std::string& name) {
    const fs::path profile = dir.path() / ("profile-" + name);
    fs::create_directory(profile);
    const fs::path png = dir.path() / (name + ".png");
    const std::string command =
        "timeout 120 " + maya::test::quoted(chromium->string()) +
        " --headless=new --no-sandbox --use-angle=swiftshader --enable-unsafe-swiftshader"
        " --disable-quic --no-first-run --disable-background-networking"
        " --disable-component-update --disable-sync --hide-scrollbars --user-data-dir=" +
        maya::test::quoted(profile.string()) +
        " --window-size=800,600 --screenshot=" + maya::test::quoted(png.string()) + " " +
        maya::test::quoted("file://" + (out / "viewer.html").string() + fragment) +
        " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return read_png(png);
  };
  const Image start = shot("#t=0", "start");
  const Image landed = shot("#t=0.55", "landed");
  ASSERT_EQ(start.width, 800);
  const Blob at_start = coloured_blob(start), at_landed = coloured_blob(landed);
  ASSERT_GT(at_start.pixels, 2000u) << "the robot's bodies are drawn";
  ASSERT_GT(at_landed.pixels, 2000u);
  EXPECT_GT(at_landed.y - at_start.y, 10.0) << "it has fallen onto the ground";
#endif
}
#endif  // MAYA_CLI_PATH

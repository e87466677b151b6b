// The files of examples/scenes/, compiled into the program (see embed_scenes.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace maya::cli {

struct EmbeddedFile {
  std::string_view name;
  std::string_view contents;
};

extern const std::vector<EmbeddedFile> kEmbeddedScenes;

}  // namespace maya::cli

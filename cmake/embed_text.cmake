# Writes OUTPUT, a C++ source defining `const std::string_view NAME` in NAMESPACE that holds the
# text of INPUT, so an asset (a web page, say) is edited as the file it is and compiled in.
file(READ "${INPUT}" text)
get_filename_component(input_name "${INPUT}" NAME)
# Raw string literals are capped at 65535 characters by some compilers: emit chunks.
string(LENGTH "${text}" size)
set(chunks "")
set(offset 0)
while(offset LESS size)
  string(SUBSTRING "${text}" ${offset} 16000 chunk)
  string(APPEND chunks "    R\"maya_asset(${chunk})maya_asset\"\n")
  math(EXPR offset "${offset} + 16000")
endwhile()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${input_name} by cmake/embed_text.cmake.\n#include <string_view>\n\n"
  "namespace ${NAMESPACE} {\n\nextern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME} =\n${chunks};\n\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")

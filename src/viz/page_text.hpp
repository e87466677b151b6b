// Text the viz writers share: numbers and strings as JSON that is safe inside a <script>
// element, and text escaped for HTML and SVG.
#pragma once

#include <string>
#include <string_view>

namespace maya::viz::detail {

// 7 significant digits (ample for drawing, and it keeps long trajectories small); a value that is
// not finite is written null.
void append_json_number(std::string& out, double value);

// A JSON string literal with no "</" or "<!--" in it, so a page may embed it in a script.
void append_json_string(std::string& out, std::string_view text);

// &, <, > and " as entities: for HTML text and attribute values, and SVG.
std::string html_escape(std::string_view text);

}  // namespace maya::viz::detail

#ifndef WHOKNOWS_HTTP_ASSETS_H_
#define WHOKNOWS_HTTP_ASSETS_H_

// The web page's files (http/web/*), embedded at build time by embed.cmake
// into assets.cc, so the binary serves the page with no files beside it.

#include <string_view>
#include <vector>

namespace whoknows::http {

struct Asset {
  std::string_view path;          // "/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view data;
};

const std::vector<Asset>& Assets();

}  // namespace whoknows::http

#endif  // WHOKNOWS_HTTP_ASSETS_H_

// Placeholders for commands that later work registers; removed as they land.
#include <CLI/CLI.hpp>

#include "whoknows/service/cli.h"

namespace whoknows::service {
}  // namespace whoknows::service

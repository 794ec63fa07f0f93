#include "whoknows/indexer/index.h"
namespace whoknows::indexer {}

#include "whoknows/indexer/aliases.h"
namespace whoknows::indexer {}

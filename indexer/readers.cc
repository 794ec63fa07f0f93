#include "whoknows/indexer/readers.h"
namespace whoknows::indexer {}

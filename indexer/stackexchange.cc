#include "whoknows/indexer/readers.h"
namespace whoknows::indexer {}  // TODO: implemented by the stackexchange reader work

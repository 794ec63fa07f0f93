#include "whoknows/indexer/readers.h"
namespace whoknows::indexer {}  // TODO: implemented by the mbox reader work

#include "whoknows/service/cli.h"

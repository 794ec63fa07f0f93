// libFuzzer target for the query parser; see fuzz_entries.h.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_entries.h"

// Builds the fixture index and snapshot before the first input.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  (void)whoknows::fuzz::GetQueryFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  whoknows::fuzz::FuzzQuery(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

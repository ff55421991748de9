/* libFuzzer's entry point for one target, chosen at compile time with
 * -DFUZZ_TARGET=fuzz_csv (see `make fuzz`). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return FUZZ_TARGET(data, size); }

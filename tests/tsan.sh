#!/usr/bin/env bash
# Build and run tests/test_threads under ThreadSanitizer (called by `make tsan`).
#
#   tsan.sh SRCDIR BUILDDIR OUTDIR   (BUILDDIR holds config.h)
#
# The library is compiled from its sources with -fsanitize=thread and without
# OpenMP: libgomp is not built with TSan, so its synchronisation would show
# as false races; the test runs each solver with threads = 1 anyway, and the
# concurrency under test is the callers' (8 pthreads sharing costs).
set -euo pipefail
src=$1
build=$2
out=$3
cc=${TSAN_CC:-clang} # gcc 12's TSan runtime crashes at start-up on kernels with 28-bit mmap ASLR
mkdir -p "$out"
flags="-std=gnu11 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wno-unknown-pragmas \
-I$build/include -I$src/include -I$src/solvers -I$src/solvers/core -I$src/solvers/cost -I$build \
-DHAVE_CONFIG_H \
${TSAN_CPPFLAGS:-}"
objs=()
for s in "$src"/solvers/*/*.c; do
    case $s in */kernels.c | */solvers/mpi/*) continue ;; esac
    o="$out/$(echo "${s#$src/}" | tr / _ | sed 's/\.c$//').o"
    # shellcheck disable=SC2086
    $cc $flags -DOTK_BUILDING_LIBRARY -c "$s" -o "$o"
    objs+=("$o")
done
k=$src/solvers/core/kernels.c
# shellcheck disable=SC2086
$cc $flags -c "$k" -o "$out/kernels.o"
objs+=("$out/kernels.o")
if grep -q '^#define OTK_HAVE_AVX2 1' "$build/config.h"; then
    # shellcheck disable=SC2086
    $cc $flags -mavx2 -mfma -DOTK_KERNEL_TABLE=otk__kernels_avx2 -DOTK_KERNEL_ISA='"avx2"' \
        -c "$k" -o "$out/kernels_avx2.o"
    objs+=("$out/kernels_avx2.o")
fi
if grep -q '^#define OTK_HAVE_AVX512 1' "$build/config.h"; then
    # shellcheck disable=SC2086
    $cc $flags -mavx512f -mavx512dq -mfma -DOTK_KERNEL_TABLE=otk__kernels_avx512 \
        -DOTK_KERNEL_ISA='"avx512"' -c "$k" -o "$out/kernels_avx512.o"
    objs+=("$out/kernels_avx512.o")
fi
# shellcheck disable=SC2086
$cc $flags "$src/tests/test_threads.c" "${objs[@]}" ${TSAN_LIBS:-} -lpthread -lm \
    -o "$out/test_threads"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$out/test_threads"
echo "ThreadSanitizer: no report"

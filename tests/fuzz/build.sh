#!/usr/bin/env bash
# Build the libFuzzer binaries of tests/fuzz (called by `make fuzz`).
#
#   build.sh SRCDIR BUILDDIR OUTDIR   (BUILDDIR holds config.h)
#
# The library, the otk tool's sources and the targets are compiled with clang
# (FUZZ_CC, default clang) under libFuzzer, ASan and UBSan, without OpenMP
# (libFuzzer runs one thread; solves are serial).  Library flags come from the
# environment that `make fuzz` passes (FUZZ_CPPFLAGS, FUZZ_LIBS).  The SIMD
# kernels are built per instruction set as in Makefile.am.
set -euo pipefail
src=$1
build=$2
out=$3
cc=${FUZZ_CC:-clang}
# Every object is rebuilt (a header or an included source may have changed).
rm -rf "$out/obj"
mkdir -p "$out/obj"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -O1 -g -fno-omit-frame-pointer -Wno-unknown-pragmas $san"
cppflags="-I$src/include -I$src/solvers -I$src/solvers/core -I$src/solvers/cost -I$src/tools \
-I$src/tests/fuzz -I$build -I$build/include -DHAVE_CONFIG_H ${FUZZ_CPPFLAGS:-}"

objs=()
compile() { # compile SOURCE [EXTRA FLAGS...]
    local s=$1
    shift
    local o="$out/obj/$(echo "${s#$src/}" | tr / _)$suffix.o"
    # shellcheck disable=SC2086
    $cc $cflags $cppflags "$@" -c "$s" -o "$o"
    objs+=("$o")
}

suffix=
# The serial library (solvers/mpi is the separate libotkit_mpi).
for s in "$src"/solvers/*/*.c; do
    case $s in */kernels.c | */solvers/mpi/*) ;; *) compile "$s" -DOTK_BUILDING_LIBRARY ;; esac
done
kernels=$src/solvers/core/kernels.c
compile "$kernels"
if grep -q '^#define OTK_HAVE_AVX2 1' "$build/config.h"; then
    suffix=_avx2 compile "$kernels" -mavx2 -mfma -DOTK_KERNEL_TABLE=otk__kernels_avx2 \
        -DOTK_KERNEL_ISA='"avx2"'
fi
if grep -q '^#define OTK_HAVE_AVX512 1' "$build/config.h"; then
    suffix=_avx512 compile "$kernels" -mavx512f -mavx512dq -mfma -mprefer-vector-width=512 \
        -DOTK_KERNEL_TABLE=otk__kernels_avx512 -DOTK_KERNEL_ISA='"avx512"'
fi
# The otk tool, main renamed (tests/fuzz/otk_main.c includes tools/otk.c).
# (launch_mpi.c without MPI only says so: configure --with-mpi is not for fuzzing.)
for s in "$src"/tools/*.c; do
    case $s in */tools/otk.c) ;; *) compile "$s" ;; esac
done
for s in common targets_lib targets_tools target_cli otk_main; do
    compile "$src/tests/fuzz/$s.c"
done

targets=(mesh_off mesh_obj map_model csv npy pgm png cli)
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    $cc $cflags -fsanitize=fuzzer $cppflags -DFUZZ_TARGET="fuzz_$t" \
        "$src/tests/fuzz/libfuzzer.c" "${objs[@]}" ${FUZZ_LIBS:-} -lm -o "$out/fuzz_$t"
done
echo "built: ${targets[*]} in $out"

#!/bin/sh
# bench/run_all.sh — build the benchmark driver and run every benchmark:
#   1. compare_pot.py  otkit vs POT 0.8.2 (log-domain Sinkhorn), n = 2000, 4000
#   2. memory.sh       peak RSS of an n = m = 50000 solve (fails at >= 100 MiB)
#   3. compare_torch.py Sinkhorn divergence + gradient vs a tensorized PyTorch
#                      loop, n = m = 5000 (needs Debian's python3-torch)
#   4. compare_sinkd_torch.py SinKD loss + gradient vs the plain PyTorch
#                      reference, (B, K) = (32, 2), (256, 100), (1024, 1000) by
#                      default here (needs python3-torch)
#   5. compare_emd.py  exact OT: otkit.emd2 vs POT's ot.emd2 (LEMON's network
#                      simplex), n = m = 2000 and 5000 (needs the Python
#                      bindings built: bindings/python, setup.py build_ext)
#   6. compare_batch.py a batch of 32 divergences + gradients, 1000 x 1000 in
#                      3-D, vs GeomLoss's tensorized loop in PyTorch (needs
#                      the Python bindings and python3-torch; ~10 min)
# The tables are printed and kept in bench/results/ (sinkhorn_vs_pot.md and
# .json, memory.md).  POT at n = 4000 takes minutes; the whole run ~15 min on
# 2 cores.
#
# Environment: EMD_ARGS (for compare_emd.py, e.g. "--sizes 2000 --repeats 5"),
# BATCH_ARGS (for compare_batch.py, e.g. "--repeats 5 --dtypes float32"),
# COMPARE_ARGS (extra arguments for compare_pot.py, e.g.
# "--sizes 2000 --repeats 5"), TORCH_ARGS (for compare_torch.py), SINKD_ARGS
# (for compare_sinkd_torch.py, default "--sizes 32x2,256x100,1024x1000"; add
# 4096x50000 to --sizes for the issue's largest case, which takes tens of
# minutes on 2 cores), WAIT_IDLE (seconds compare_pot.py may wait for
# other processes to leave the CPUs, default 600), PYTHON (default
# /usr/bin/python3, Debian's, which has numpy 1.24 and POT 0.8.2).
set -eu
cd "$(dirname "$0")"

# These slow numpy's BLAS on this machine; compare_pot.py also removes them
# itself (and records that it did).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

PYTHON=${PYTHON:-/usr/bin/python3}
WAIT_IDLE=${WAIT_IDLE:-600}
mkdir -p results

echo "== building"
if [ ! -f ../.libs/libotkit.a ]; then
    make -C .. -j2 libotkit.la
fi
make

echo
echo "== otkit vs POT (compare_pot.py)"
# shellcheck disable=SC2086  # COMPARE_ARGS is a list of words
"$PYTHON" compare_pot.py --wait-idle "$WAIT_IDLE" ${COMPARE_ARGS:-} >results/sinkhorn_vs_pot.md
cat results/sinkhorn_vs_pot.md

echo
echo "== divergence vs PyTorch (compare_torch.py)"
if "$PYTHON" -c "import torch" 2>/dev/null; then
    "$PYTHON" compare_torch.py ${TORCH_ARGS:-} >results/divergence_vs_torch.md
    cat results/divergence_vs_torch.md
else
    echo "skipped: PyTorch is not installed (apt-get install python3-torch)"
fi

echo
echo "== SinKD vs PyTorch (compare_sinkd_torch.py)"
if "$PYTHON" -c "import torch" 2>/dev/null; then
    # shellcheck disable=SC2086  # SINKD_ARGS is a list of words
    "$PYTHON" compare_sinkd_torch.py ${SINKD_ARGS:---sizes 32x2,256x100,1024x1000}
else
    echo "skipped: PyTorch is not installed (apt-get install python3-torch)"
fi

echo
echo "== exact OT vs POT (compare_emd.py)"
if PYTHONPATH=../bindings/python "$PYTHON" -c "import otkit" 2>/dev/null; then
    # shellcheck disable=SC2086  # EMD_ARGS is a list of words
    "$PYTHON" compare_emd.py ${EMD_ARGS:-}
else
    echo "skipped: the otkit Python package is not built (bindings/python/README.md)"
fi

echo
echo "== batch of divergences vs PyTorch (compare_batch.py)"
if PYTHONPATH=../bindings/python "$PYTHON" -c "import otkit, torch" 2>/dev/null; then
    # shellcheck disable=SC2086  # BATCH_ARGS is a list of words
    "$PYTHON" compare_batch.py ${BATCH_ARGS:-}
else
    echo "skipped: needs the otkit Python package (bindings/python/README.md) and PyTorch"
fi

echo
echo "== peak memory (memory.sh)"
mem_status=0
./memory.sh >results/memory.md 2>&1 || mem_status=$?
cat results/memory.md
exit "$mem_status"

/*
 * otkit/sparse.h — a cost given only on a sparsity pattern.
 *
 * STABILITY: stable (a cost kind): changes only with a major version.
 *
 * The n×m cost C is stored in compressed sparse column (CSC) form: the
 * entries of column j are values[colptr[j] .. colptr[j+1]−1] at the rows
 * rowind[colptr[j] .. colptr[j+1]−1].  Entries that are not stored are +∞:
 * the kernel exp(−C/ε) is 0 there and the plan never moves mass between
 * such a pair.  (An explicitly stored entry, even a large one, is a finite
 * cost; to emulate "+big" store the big value.)
 *
 * Every operation is log-domain over the stored entries only: the soft-min
 * along rows runs over the row's entries, through a transposed (CSR) index
 * built once by the constructor; along columns over the column's entries.
 * Work and memory are O(nnz) per operation, O(nnz + n + m) in all.  All the
 * plan reductions (MASS, COST, APPLY) are supported; GRAD gives NAN (no
 * coordinates).  otk_cost_entry() returns +INFINITY for an absent entry.
 *
 * Balanced problems on a truncated pattern are feasible only when the
 * marginals can be met on the pattern; otherwise the potentials diverge and
 * the solvers report OTK_NOT_CONVERGED (or OTK_ENUMERIC).
 *
 * OWNERSHIP: the arrays are copied.  THREAD SAFETY: as every cost (cost.h).
 */
#ifndef OTKIT_SPARSE_H
#define OTKIT_SPARSE_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sparse cost.
 *   n, m     input: rows and columns, both > 0.
 *   colptr   input: m+1 offsets, colptr[0] = 0, non-decreasing; nnz = colptr[m].
 *   rowind   input: nnz row indices, strictly increasing within each column.
 *   values   input: nnz finite costs.
 * Kind "sparse", name "sparse", no exponent (0: blur and reach need
 * params.p, see otk_cost_exponent), diameter = max − min of the stored
 * values.
 * Errors (naming the index): OTK_ENULL; OTK_ESIZE (n or m zero, colptr not
 *   starting at 0 or decreasing); OTK_ERANGE (a row index >= n, or rows not
 *   strictly increasing in a column: unsorted or duplicate); OTK_ENONFINITE
 *   (a value); OTK_EEMPTY (a row or a column with no entry: its soft-min
 *   would be +∞ and no plan could give it mass); OTK_ENOMEM. */
OTK_EXPORT otk_status otk_cost_sparse(otk_cost **out, size_t n, size_t m, const size_t *colptr,
                                      const size_t *rowind, const double *values);

/* The number of stored entries of a sparse cost (0 for other kinds). */
OTK_EXPORT size_t otk_cost_sparse_nnz(const otk_cost *cost);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_SPARSE_H */

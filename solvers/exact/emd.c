/* Exact optimal transport: the primal network simplex on the complete
 * bipartite graph with an artificial root (otkit/emd.h, docs/exact.md).
 *
 * The spanning tree is stored by node: parent, the direction of the arc to
 * the parent (up = the arc points from the node to its parent), its flow,
 * the node's depth and potential, and the children as doubly linked lists.
 * Non-tree arcs carry no flow, so no n×m flow array exists: the only n×m
 * array is the cost matrix, and that one is borrowed when the cost has one.
 *
 * Node numbering: sources 0..n-1, targets n..n+m-1, the root n+m.  Real arcs
 * go from a source i to a target n+j with cost C_ij; the artificial arc of a
 * node joins it to the root.  Potentials pi give the reduced cost of an arc
 * s → t as c − pi_s + pi_t, so u_i = pi_i and v_j = −pi_{n+j}. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "otkit/emd.h"

typedef struct {
    size_t i, j;
    double mass;
} plan_entry;

struct otk_emd {
    otk_emd_params par;
    size_t n, m, ld;
    const double *C;  /* the cost matrix (borrowed or owned_C) */
    double *owned_C;
    double cmax;      /* max |C_ij| */
    double art_cost;  /* cost of a target's artificial arc */
    double tol;       /* reduced costs above −tol count as nonnegative */
    size_t block;     /* pricing block size */
    size_t next_arc;  /* where the next pricing scan starts */
    /* the tree, per node (n + m + 1 of them) */
    int *parent, *first_child, *next_sib, *prev_sib, *depth, *stack;
    unsigned char *up;
    double *flow, *pi, *supply;
    /* the solution */
    size_t plan_size;
    plan_entry *plan; /* n + m entries, the first plan_size used */
    double *u, *v;
    int solved;
};

void otk_emd_params_default(otk_emd_params *params)
{
    if (!params)
        return;
    params->max_iter = 0;
    params->mass_tol = 1e-9;
    params->block_size = 0;
}

void otk_emd_free(otk_emd *s)
{
    if (!s)
        return;
    free(s->owned_C);
    free(s->parent);
    free(s->first_child);
    free(s->next_sib);
    free(s->prev_sib);
    free(s->depth);
    free(s->stack);
    free(s->up);
    free(s->flow);
    free(s->pi);
    free(s->supply);
    free(s->plan);
    free(s->u);
    free(s->v);
    free(s);
}

otk_status otk_emd_alloc(otk_emd **out, const otk_cost *cost, const otk_emd_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_emd_alloc: out is NULL");
    *out = NULL;
    if (!cost)
        return otk__fail(OTK_ENULL, "otk_emd_alloc: cost is NULL");
    otk_emd_params par;
    if (params)
        par = *params;
    else
        otk_emd_params_default(&par);
    if (par.max_iter < 0)
        return otk__fail(OTK_EPARAM, "otk_emd_alloc: max_iter = %ld is negative", par.max_iter);
    /* A tolerance for rounding, not a way to pass unequal masses: beyond
     * 1e-6 the returned plan would visibly miss a marginal. */
    if (!(par.mass_tol >= 0.0 && par.mass_tol <= 1e-6))
        return otk__fail(OTK_EPARAM, "otk_emd_alloc: mass_tol = %g must be in [0, 1e-6]",
                         par.mass_tol);
    const size_t n = otk_cost_rows(cost), m = otk_cost_cols(cost);
    if (n + m >= (size_t)INT_MAX)
        return otk__fail(OTK_ESIZE, "otk_emd_alloc: n + m = %zu nodes is too many", n + m);
    if (m > SIZE_MAX / sizeof(double) / n)
        return otk__fail(OTK_ESIZE, "otk_emd_alloc: the %zu×%zu cost matrix is too large", n, m);

    otk_emd *s = calloc(1, sizeof *s);
    if (!s)
        return otk__fail(OTK_ENOMEM, "otk_emd_alloc: out of memory");
    s->par = par;
    s->n = n;
    s->m = m;
    s->C = otk__cost_matrix_view(cost, &s->ld);
    if (!s->C) {
        s->owned_C = malloc(n * m * sizeof(double));
        if (!s->owned_C) {
            otk_emd_free(s);
            return otk__fail(OTK_ENOMEM, "otk_emd_alloc: out of memory for the %zu×%zu cost "
                                         "matrix",
                             n, m);
        }
        otk__cost_fill_matrix(cost, s->owned_C);
        s->C = s->owned_C;
        s->ld = m;
    }
    double cmax = 0.0;
    size_t imax = 0, jmax = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            const double c = s->C[i * s->ld + j];
            if (!isfinite(c)) {
                otk_emd_free(s);
                return otk__fail(OTK_ENONFINITE, "otk_emd_alloc: C[%zu][%zu] = %g is not finite",
                                 i, j, c);
            }
            if (fabs(c) > cmax) {
                cmax = fabs(c);
                imax = i;
                jmax = j;
            }
        }
    /* A potential is a sum of at most n + m arc costs along a tree path and
     * the artificial arcs cost 3·max|C|: beyond this bound they could
     * overflow to ±Inf and the dual value to NaN. */
    const double cbound = DBL_MAX / (4.0 * ((double)(n + m) + 4.0));
    if (cmax > cbound) {
        const double c = s->C[imax * s->ld + jmax];
        otk_emd_free(s);
        return otk__fail(OTK_ENUMERIC, "otk_emd_alloc: C[%zu][%zu] = %g: costs above %g in "
                                       "magnitude would overflow the potentials (rescale the "
                                       "cost)",
                         imax, jmax, c, cbound);
    }
    s->cmax = cmax;
    /* A path source → root → target costs art_cost, one source → target' →
     * root → target at least art_cost − max|C|; the direct arc at most max|C|.
     * With art_cost = 3 max|C| every path through the root is dearer than the
     * arc, so no optimal basis keeps mass on the root, and the potentials stay
     * of the order of the costs (no loss of digits to a huge "big M"). */
    s->art_cost = cmax > 0.0 ? 3.0 * cmax : 1.0;
    s->tol = 64.0 * DBL_EPSILON * s->art_cost;
    size_t block = par.block_size;
    if (block == 0)
        block = (size_t)ceil(sqrt((double)n * (double)m));
    if (block < 10)
        block = 10;
    s->block = block;

    const size_t N = n + m + 1;
    s->parent = malloc(N * sizeof(int));
    s->first_child = malloc(N * sizeof(int));
    s->next_sib = malloc(N * sizeof(int));
    s->prev_sib = malloc(N * sizeof(int));
    s->depth = malloc(N * sizeof(int));
    s->stack = malloc(N * sizeof(int));
    s->up = malloc(N);
    s->flow = malloc(N * sizeof(double));
    s->pi = malloc(N * sizeof(double));
    s->supply = malloc(N * sizeof(double));
    s->plan = malloc(N * sizeof *s->plan);
    s->u = malloc(n * sizeof(double));
    s->v = malloc(m * sizeof(double));
    if (!s->parent || !s->first_child || !s->next_sib || !s->prev_sib || !s->depth ||
        !s->stack || !s->up || !s->flow || !s->pi || !s->supply || !s->plan ||
        !s->u || !s->v) {
        otk_emd_free(s);
        return otk__fail(OTK_ENOMEM, "otk_emd_alloc: out of memory");
    }
    *out = s;
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------ the tree */

static void detach(otk_emd *s, int v)
{
    const int p = s->parent[v], prev = s->prev_sib[v], next = s->next_sib[v];
    if (prev >= 0)
        s->next_sib[prev] = next;
    else
        s->first_child[p] = next;
    if (next >= 0)
        s->prev_sib[next] = prev;
}

static void attach(otk_emd *s, int v, int p)
{
    const int first = s->first_child[p];
    s->parent[v] = p;
    s->prev_sib[v] = -1;
    s->next_sib[v] = first;
    if (first >= 0)
        s->prev_sib[first] = v;
    s->first_child[p] = v;
}

/* Cost of the tree arc between v and its parent. */
static double pred_cost(const otk_emd *s, int v)
{
    const int root = (int)(s->n + s->m), p = s->parent[v];
    if (p == root)
        return s->up[v] ? 0.0 : s->art_cost;
    const int src = v < (int)s->n ? v : p, dst = v < (int)s->n ? p : v;
    return s->C[(size_t)src * s->ld + (size_t)(dst - (int)s->n)];
}

/* The initial strongly feasible basis: every node hangs from the root by its
 * artificial arc, pointing up (node → root, cost 0) for supply >= 0 — sources
 * and zero-weight targets — and down (root → node, cost art_cost, positive
 * flow) for targets with weight: a zero flow is only ever on an up arc. */
static void initial_tree(otk_emd *s)
{
    const int N = (int)(s->n + s->m) + 1, root = N - 1;
    s->parent[root] = -1;
    s->first_child[root] = -1;
    s->depth[root] = 0;
    s->pi[root] = 0.0;
    s->flow[root] = 0.0;
    s->up[root] = 0;
    for (int v = 0; v < root; v++) {
        s->first_child[v] = -1;
        attach(s, v, root);
        s->depth[v] = 1;
        const double sup = s->supply[v];
        s->up[v] = sup >= 0.0;
        s->flow[v] = fabs(sup);
        s->pi[v] = s->up[v] ? 0.0 : -s->art_cost;
    }
    s->next_arc = 0;
}

/* Block search: scan arcs cyclically from next_arc in blocks of s->block;
 * return 1 with the most negative reduced cost of the first block that has
 * one below −tol, 0 when a whole cycle finds none (optimal). */
static int find_entering(otk_emd *s, size_t *bi, size_t *bj, double *brc)
{
    const size_t n = s->n, m = s->m, ld = s->ld, total = n * m;
    const double *pu = s->pi, *pv = s->pi + n;
    size_t i = s->next_arc / m, j = s->next_arc % m;
    size_t left = total, in_block = 0;
    double best = -s->tol;
    size_t best_i = 0, best_j = 0;
    int found = 0;
    while (left > 0) {
        size_t seg = m - j;
        if (seg > s->block - in_block)
            seg = s->block - in_block;
        if (seg > left)
            seg = left;
        const double *row = s->C + i * ld;
        const double ui = pu[i];
        double row_best = best + ui; /* compare C_ij + pv_j against it */
        size_t row_arg = SIZE_MAX;
        for (size_t t = j; t < j + seg; t++) {
            const double r = row[t] + pv[t];
            if (r < row_best) {
                row_best = r;
                row_arg = t;
            }
        }
        if (row_arg != SIZE_MAX) {
            const double rc = row[row_arg] - ui + pv[row_arg];
            if (rc < best) {
                best = rc;
                best_i = i;
                best_j = row_arg;
                found = 1;
            }
        }
        left -= seg;
        in_block += seg;
        j += seg;
        if (j == m) {
            j = 0;
            if (++i == n)
                i = 0;
        }
        if (in_block == s->block) {
            if (found)
                break;
            in_block = 0;
        }
    }
    s->next_arc = i * m + j;
    if (found) {
        *bi = best_i;
        *bj = best_j;
        *brc = best;
    }
    return found;
}

/* One pivot: arc (k → l), k = source, l = target node, reduced cost rc < 0,
 * enters; the leaving arc follows Cunningham's rule.  Returns 0, or −1 if the
 * cycle has no blocking arc (cannot happen: the graph has no directed
 * cycle). */
static int pivot(otk_emd *s, int k, int l, double rc)
{
    int *parent = s->parent, *depth = s->depth;
    unsigned char *up = s->up;
    double *flow = s->flow;
    /* the apex of the cycle */
    int x = k, y = l;
    while (x != y) {
        if (depth[x] > depth[y])
            x = parent[x];
        else if (depth[y] > depth[x])
            y = parent[y];
        else {
            x = parent[x];
            y = parent[y];
        }
    }
    const int join = x;
    /* The cycle is oriented along the entering arc: apex → … → k → l → … →
     * apex.  Arcs traversed against their direction lose flow: up arcs on the
     * k side, down arcs on the l side.  The leaving arc is the last blocking
     * arc met from the apex, hence ties go to the l side and, on the k side,
     * to the arc nearest k (strict <). */
    double delta = INFINITY;
    int u_out = -1, side = 0;
    for (int w = k; w != join; w = parent[w])
        if (up[w] && flow[w] < delta) {
            delta = flow[w];
            u_out = w;
            side = 1;
        }
    for (int w = l; w != join; w = parent[w])
        if (!up[w] && flow[w] <= delta) {
            delta = flow[w];
            u_out = w;
            side = 2;
        }
    if (u_out < 0)
        return -1;
    if (delta > 0.0) {
        for (int w = k; w != join; w = parent[w])
            flow[w] += up[w] ? -delta : delta;
        for (int w = l; w != join; w = parent[w])
            flow[w] += up[w] ? delta : -delta;
    }
    /* The subtree below the leaving arc holds the entering arc's end q; hang
     * it from the other end p by the entering arc, reversing the stem from q
     * up to u_out. */
    const int q = side == 1 ? k : l, p = side == 1 ? l : k;
    int w = q, new_parent = p;
    unsigned char new_up = side == 1; /* k → l points from k up to l */
    double new_flow = delta;
    for (;;) {
        const int old_parent = parent[w];
        const unsigned char old_up = up[w];
        const double old_flow = flow[w];
        detach(s, w);
        attach(s, w, new_parent);
        up[w] = new_up;
        flow[w] = new_flow;
        if (w == u_out)
            break;
        new_parent = w;
        new_up = !old_up;
        new_flow = old_flow;
        w = old_parent;
    }
    /* The entering arc's reduced cost must become 0: shift the potentials of
     * the moved subtree, and renumber its depths. */
    const double sigma = side == 1 ? rc : -rc;
    int *stack = s->stack, top = 0;
    stack[top++] = q;
    while (top > 0) {
        const int v = stack[--top];
        depth[v] = depth[parent[v]] + 1;
        s->pi[v] += sigma;
        for (int c = s->first_child[v]; c >= 0; c = s->next_sib[c])
            stack[top++] = c;
    }
    return 0;
}

/* Potentials from scratch, root down (pi_root = 0): removes the drift of
 * the incremental updates before the final optimality scan. */
static void recompute_potentials(otk_emd *s)
{
    const int root = (int)(s->n + s->m);
    int *stack = s->stack, top = 0;
    s->pi[root] = 0.0;
    for (int c = s->first_child[root]; c >= 0; c = s->next_sib[c])
        stack[top++] = c;
    while (top > 0) {
        const int v = stack[--top];
        const double c = pred_cost(s, v), pp = s->pi[s->parent[v]];
        s->pi[v] = s->up[v] ? pp + c : pp - c;
        for (int ch = s->first_child[v]; ch >= 0; ch = s->next_sib[ch])
            stack[top++] = ch;
    }
}

/* Flows from the supplies, leaves up: the flow on a node's arc is the net
 * supply of its subtree.  Exact up to the rounding of one sum per arc, where
 * the incremental ±delta updates accumulate rounding over all pivots. */
static void recompute_flows(otk_emd *s)
{
    const int root = (int)(s->n + s->m);
    int *order = s->stack, len = 0;
    /* preorder into `order`, then walk it backwards */
    order[len++] = root;
    for (int r = 0; r < len; r++)
        for (int c = s->first_child[order[r]]; c >= 0; c = s->next_sib[c])
            order[len++] = c;
    double *net = s->flow; /* reused: net supply first, then the flow */
    for (int v = 0; v < root; v++)
        net[v] = s->supply[v];
    net[root] = 0.0;
    for (int r = len - 1; r > 0; r--) {
        const int v = order[r];
        net[s->parent[v]] += net[v];
    }
    for (int v = 0; v < root; v++) {
        const double f = s->up[v] ? net[v] : -net[v];
        net[v] = f > 0.0 ? f : 0.0;
    }
}

static int compare_plan_entries(const void *pa, const void *pb)
{
    const plan_entry *x = pa, *y = pb;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    return x->j < y->j ? -1 : (x->j > y->j);
}

/* Read the plan, the value and the centred potentials off the tree. */
static void extract_solution(otk_emd *s, otk_emd_result *res, double mass_a, double mass_b)
{
    const size_t n = s->n, m = s->m;
    const int root = (int)(n + m);
    /* the plan: the real tree arcs with flow */
    size_t k = 0;
    for (int v = 0; v < root; v++) {
        const int p = s->parent[v];
        if (p == root || s->flow[v] <= 0.0)
            continue;
        const size_t i = (size_t)(v < (int)n ? v : p), j = (size_t)(v < (int)n ? p : v) - n;
        s->plan[k++] = (plan_entry){i, j, s->flow[v]};
    }
    s->plan_size = k;
    qsort(s->plan, k, sizeof *s->plan, compare_plan_entries);
    double value = 0.0;
    for (size_t t = 0; t < k; t++)
        value += s->plan[t].mass * s->C[s->plan[t].i * s->ld + s->plan[t].j];
    /* potentials, centred as POT's center_ot_dual: <a, u> = <b, v> */
    double au = 0.0, bv = 0.0;
    for (size_t i = 0; i < n; i++) {
        s->u[i] = s->pi[i];
        au += s->supply[i] * s->u[i];
    }
    for (size_t j = 0; j < m; j++) {
        s->v[j] = -s->pi[n + j];
        bv += -s->supply[n + j] * s->v[j];
    }
    const double shift = (au - bv) / (mass_a + mass_b);
    au = bv = 0.0;
    for (size_t i = 0; i < n; i++) {
        s->u[i] -= shift;
        au += s->supply[i] * s->u[i];
    }
    for (size_t j = 0; j < m; j++) {
        s->v[j] += shift;
        bv += -s->supply[n + j] * s->v[j];
    }
    if (res) {
        res->value = value;
        res->dual_value = au + bv;
        res->plan_size = k;
        res->mass_a = mass_a;
        res->mass_b = mass_b;
    }
}

static otk_status read_weights(const char *what, const double *w, size_t n, double *dst,
                               double sign, double *mass)
{
    if (!w) {
        for (size_t i = 0; i < n; i++)
            dst[i] = sign / (double)n;
        *mass = 1.0;
        return OTK_SUCCESS;
    }
    otk_status st = otk__check_weights(what, w, n, mass);
    if (st < 0)
        return st;
    for (size_t i = 0; i < n; i++)
        dst[i] = sign * w[i];
    return OTK_SUCCESS;
}

otk_status otk_emd_solve(otk_emd *s, const double *a, const double *b, otk_emd_result *res)
{
    if (!s)
        return otk__fail(OTK_ENULL, "otk_emd_solve: the solver is NULL");
    s->solved = 0;
    const size_t n = s->n, m = s->m;
    double mass_a, mass_b;
    otk_status st = read_weights("a", a, n, s->supply, 1.0, &mass_a);
    if (st < 0)
        return st;
    st = read_weights("b", b, m, s->supply + n, -1.0, &mass_b);
    if (st < 0)
        return st;
    const double big = mass_a > mass_b ? mass_a : mass_b;
    if (fabs(mass_a - mass_b) > s->par.mass_tol * big)
        return otk__fail(OTK_EMASS,
                         "otk_emd_solve: the masses differ: sum(a) = %.17g, sum(b) = %.17g "
                         "(relative difference %.3g > mass_tol %.3g)",
                         mass_a, mass_b, fabs(mass_a - mass_b) / big, s->par.mass_tol);

    initial_tree(s);
    long pivots = 0;
    otk_status status = OTK_SUCCESS;
    for (;;) {
        size_t i, j;
        double rc;
        while (find_entering(s, &i, &j, &rc)) {
            if (s->par.max_iter > 0 && pivots >= s->par.max_iter) {
                status = OTK_NOT_CONVERGED;
                break;
            }
            if (pivot(s, (int)i, (int)(n + j), rc) < 0)
                return otk__fail(OTK_ENUMERIC, "otk_emd_solve: a cycle without a blocking "
                                               "arc (internal error)");
            pivots++;
        }
        if (status != OTK_SUCCESS)
            break;
        /* Optimal for the incrementally updated potentials; confirm with
         * potentials recomputed from the tree. */
        recompute_potentials(s);
        if (!find_entering(s, &i, &j, &rc))
            break;
        if (s->par.max_iter > 0 && pivots >= s->par.max_iter) {
            status = OTK_NOT_CONVERGED;
            break;
        }
        if (pivot(s, (int)i, (int)(n + j), rc) < 0)
            return otk__fail(OTK_ENUMERIC, "otk_emd_solve: a cycle without a blocking arc "
                                           "(internal error)");
        pivots++;
    }
    recompute_potentials(s);
    recompute_flows(s);
    extract_solution(s, res, mass_a, mass_b);
    if (res)
        res->iterations = pivots;
    s->solved = 1;
    return status;
}

otk_status otk_emd_plan(const otk_emd *s, size_t *rows, size_t *cols, double *mass)
{
    if (!s)
        return otk__fail(OTK_ENULL, "otk_emd_plan: the solver is NULL");
    if (!s->solved)
        return otk__fail(OTK_ESTATE, "otk_emd_plan: no solution yet (call otk_emd_solve)");
    for (size_t k = 0; k < s->plan_size; k++) {
        if (rows)
            rows[k] = s->plan[k].i;
        if (cols)
            cols[k] = s->plan[k].j;
        if (mass)
            mass[k] = s->plan[k].mass;
    }
    return OTK_SUCCESS;
}

otk_status otk_emd_potentials(const otk_emd *s, double *u, double *v)
{
    if (!s)
        return otk__fail(OTK_ENULL, "otk_emd_potentials: the solver is NULL");
    if (!s->solved)
        return otk__fail(OTK_ESTATE, "otk_emd_potentials: no solution yet (call otk_emd_solve)");
    if (u)
        memcpy(u, s->u, s->n * sizeof *u);
    if (v)
        memcpy(v, s->v, s->m * sizeof *v);
    return OTK_SUCCESS;
}

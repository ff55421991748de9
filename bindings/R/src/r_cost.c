/*
 * r_cost.c — costs that are neither point clouds nor dense matrices: regular
 * grids (otkit/grid.h), mesh and graph heat kernels (otkit/mesh.h) and sparse
 * costs (otkit/sparse.h), with the solves that run on any of them: Sinkhorn,
 * the debiased divergence (otk_divergence_alloc_costs, the one cost serving
 * as C_xy, C_xx and C_yy) and barycenters (otkit/barycenter.h).
 *
 * Histograms reach the library as flat vectors of n entries.  An R array of
 * dim (N_1, ..., N_D) is column-major, which is the row-major layout of the
 * grid (N_D, ..., N_1): the R side passes the shape and spacing reversed, so
 * no copy is made and results come back in R's own layout.
 */
#include "otkr.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NUM(v) PROTECT(Rf_ScalarReal(v))
#define INT(v) PROTECT(Rf_ScalarInteger(v))

/* ------------------------------------------------------------------ meshes */

static void mesh_finalize(SEXP ptr)
{
    otk_mesh_free((otk_mesh *)R_ExternalPtrAddr(ptr));
    R_ClearExternalPtr(ptr);
}

static const otk_mesh *mesh_of(SEXP ptr)
{
    const otk_mesh *mesh;
    if (TYPEOF(ptr) != EXTPTRSXP || (mesh = R_ExternalPtrAddr(ptr)) == NULL)
        Rf_errorcall(R_NilValue, "otkit: mesh is not a valid otkit mesh (made in this session "
                                 "by mesh_read(), mesh_from_triangles(), mesh_from_graph() or "
                                 "mesh_generate())");
    return mesh;
}

/* The mesh in an external pointer plus copies of its geometry (faces 1-based). */
static SEXP mesh_wrap(otk_mesh *mesh, int st)
{
    SEXP ptr, V = R_NilValue, F = R_NilValue, A;
    size_t nv, nf, k;
    const double *xyz;
    const size_t *faces;
    if (st < 0) {
        otk_mesh_free(mesh);
        otkr_check(st);
    }
    ptr = PROTECT(R_MakeExternalPtr(mesh, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(ptr, mesh_finalize, TRUE);
    nv = otk_mesh_vertex_count(mesh);
    nf = otk_mesh_face_count(mesh);
    xyz = otk_mesh_coordinates(mesh);
    faces = otk_mesh_faces(mesh);
    if (xyz != NULL)
        V = otkr_matrix_out(xyz, nv, 3);
    PROTECT(V);
    if (faces != NULL) {
        if (nf > INT_MAX / 3 || nv > INT_MAX)
            Rf_errorcall(R_NilValue, "otkit: the mesh is too large for R integer indices");
        F = Rf_allocMatrix(INTSXP, (int)nf, 3);
        for (k = 0; k < 3 * nf; k++)
            INTEGER(F)[(k / 3) + (k % 3) * nf] = (int)faces[k] + 1;
    }
    PROTECT(F);
    A = PROTECT(otkr_vector_out(otk_mesh_areas(mesh), nv));
    {
        const char *names[] = {"ptr", "vertices", "faces", "areas", "total_area", "n",
                               "is_graph", "max_edge"};
        SEXP vals[8];
        SEXP out;
        vals[0] = ptr;
        vals[1] = V;
        vals[2] = F;
        vals[3] = A;
        vals[4] = NUM(otk_mesh_total_area(mesh));
        vals[5] = PROTECT(Rf_ScalarReal((double)nv));
        vals[6] = PROTECT(Rf_ScalarLogical(otk_mesh_is_graph(mesh)));
        vals[7] = NUM(otk_mesh_max_edge(mesh));
        out = otkr_named_list(8, names, vals);
        UNPROTECT(8);
        return out;
    }
}

/* An integer matrix (rows x cols, R's 1-based indices) as 0-based row-major
 * size_t; names the entry (R's [i, j]) that is not a positive whole number. */
static size_t *index_matrix(SEXP M, const char *name, size_t cols, size_t *rows)
{
    SEXP dim = Rf_getAttrib(M, R_DimSymbol);
    size_t r, i, j;
    size_t *out;
    if (!Rf_isNumeric(M) || dim == R_NilValue || LENGTH(dim) != 2 ||
        (size_t)INTEGER(dim)[1] != cols)
        Rf_errorcall(R_NilValue, "otkit: %s must be a k x %zu matrix of 1-based indices", name,
                     cols);
    r = (size_t)INTEGER(dim)[0];
    out = (size_t *)R_alloc(r * cols == 0 ? 1 : r * cols, sizeof(size_t));
    for (i = 0; i < r; i++)
        for (j = 0; j < cols; j++) {
            double v;
            if (TYPEOF(M) == INTSXP)
                v = INTEGER(M)[i + j * r] == NA_INTEGER ? (double)NAN
                                                        : (double)INTEGER(M)[i + j * r];
            else
                v = REAL(M)[i + j * r];
            if (!(v >= 1.0) || v != floor(v) || v > 9.0e15)
                Rf_errorcall(R_NilValue,
                             "otkit: %s[%zu, %zu] = %g is not an index (a whole number >= 1)",
                             name, i + 1, j + 1, v);
            out[i * cols + j] = (size_t)v - 1;
        }
    *rows = r;
    return out;
}

SEXP otkr_mesh_from_triangles(SEXP V, SEXP F)
{
    size_t nv, d, nf;
    const double *xyz = otkr_rowmajor(V, "V", &nv, &d, 3);
    size_t *faces = index_matrix(F, "F", 3, &nf);
    otk_mesh *mesh = NULL;
    int st = otk_mesh_from_triangles(&mesh, nv, xyz, nf, faces);
    return mesh_wrap(mesh, st);
}

SEXP otkr_mesh_from_graph(SEXP n, SEXP E, SEXP w)
{
    size_t ne;
    size_t *edges = index_matrix(E, "edges", 2, &ne);
    const double *weights = otkr_vector_opt(w, "weights", ne);
    otk_mesh *mesh = NULL;
    int st = otk_mesh_from_graph(&mesh, (size_t)Rf_asReal(n), ne, edges, weights);
    return mesh_wrap(mesh, st);
}

SEXP otkr_mesh_read(SEXP path)
{
    otk_mesh *mesh = NULL;
    int st = otk_mesh_read(&mesh, R_ExpandFileName(CHAR(STRING_ELT(path, 0))));
    return mesh_wrap(mesh, st);
}

SEXP otkr_mesh_generate(SEXP shape, SEXP res)
{
    otk_mesh *mesh = NULL;
    int st = otk_mesh_generate(&mesh, (otk_mesh_shape)Rf_asInteger(shape),
                               (size_t)Rf_asInteger(res));
    return mesh_wrap(mesh, st);
}

/* ------------------------------------------------------------------ costs */

/* kind "grid": spec = list(shape (integer, row-major order), spacing, cost,
 * path, fft_tol); "mesh": list(ptr, eps, steps, convention); "sparse":
 * list(n, m, colptr, rowind, values) (0-based, CSC, as Matrix's dgCMatrix). */
static void build_cost(otk_cost **out, SEXP kind, SEXP spec, size_t *n, size_t *m)
{
    const char *k = CHAR(STRING_ELT(kind, 0));
    if (strcmp(k, "grid") == 0) {
        SEXP shp = otkr_opt(spec, "shape"), sp = otkr_opt(spec, "spacing");
        size_t shape[3], dim = (size_t)XLENGTH(shp), i;
        double spacing[3];
        otk_grid_params gp;
        *n = 1;
        for (i = 0; i < dim && i < 3; i++) {
            shape[i] = (size_t)INTEGER(shp)[i];
            spacing[i] = REAL(sp)[i];
            *n *= shape[i];
        }
        otk_grid_params_default(&gp);
        gp.path = (otk_grid_path)otkr_opt_int(spec, "path");
        gp.fft_tol = otkr_opt_num(spec, "fft_tol");
        otkr_check(otk_cost_grid(out, dim, shape, spacing,
                                 otkr_ground(otkr_opt(spec, "cost"), "cost"), &gp));
        *m = *n;
    } else if (strcmp(k, "mesh") == 0) {
        const otk_mesh *mesh = mesh_of(otkr_opt(spec, "ptr"));
        otk_heat_params hp;
        otk_heat_params_default(&hp);
        hp.eps = otkr_opt_num(spec, "eps");
        hp.steps = otkr_opt_int(spec, "steps");
        hp.convention = (otk_heat_convention)otkr_opt_int(spec, "convention");
        otkr_check(otk_cost_mesh(out, mesh, &hp));
        *n = *m = otk_mesh_vertex_count(mesh);
    } else {
        SEXP p = otkr_opt(spec, "colptr"), r = otkr_opt(spec, "rowind"),
             v = otkr_opt(spec, "values");
        size_t nnz = (size_t)XLENGTH(r), mm = (size_t)XLENGTH(p) - 1, i;
        size_t *colptr = (size_t *)R_alloc(mm + 1, sizeof(size_t));
        size_t *rowind = (size_t *)R_alloc(nnz == 0 ? 1 : nnz, sizeof(size_t));
        /* The R side checked that the entries are whole numbers >= 0. */
        for (i = 0; i <= mm; i++)
            colptr[i] = (size_t)REAL(p)[i];
        for (i = 0; i < nnz; i++)
            rowind[i] = (size_t)REAL(r)[i];
        *n = (size_t)otkr_opt_num(spec, "n");
        *m = mm;
        /* The library names the CSC arrays colptr / rowind / values: lead
         * with the argument and the names R users gave them. */
        otkr_check_arg(otk_cost_sparse(out, *n, *m, colptr, rowind, REAL(v)),
                       "C (CSC: colptr = indptr or p, rowind = indices or i, values = data or x)");
    }
}

/* The cost's counters: a grid's (with the path the target eps takes and the
 * FFT error bound there), a mesh's or a sparse cost's nnz. */
static SEXP cost_stats(const otk_cost *cost, double eps)
{
    otk_grid_stats gs;
    otk_mesh_stats ms;
    if (otk_grid_get_stats(cost, &gs) == OTK_SUCCESS) {
        const char *names[] = {"path", "fft_error_bound", "fft_plans", "kernel_transforms",
                               "softmin_calls", "softmin_fft", "softmin_separable",
                               "reduce_calls"};
        SEXP vals[8], out;
        otk_grid_path path;
        otkr_check(otk_grid_select_path(cost, eps, &path));
        vals[0] = PROTECT(Rf_mkString(otk_grid_path_name(path)));
        vals[1] = NUM(otk_grid_fft_error_bound(cost, eps));
        vals[2] = NUM((double)gs.fft_plans);
        vals[3] = NUM((double)gs.kernel_transforms);
        vals[4] = NUM((double)gs.softmin_calls);
        vals[5] = NUM((double)gs.softmin_fft);
        vals[6] = NUM((double)gs.softmin_separable);
        vals[7] = NUM((double)gs.reduce_calls);
        out = otkr_named_list(8, names, vals);
        UNPROTECT(8);
        return out;
    }
    if (otk_mesh_cost_stats(cost, &ms) == OTK_SUCCESS) {
        const char *names[] = {"factorisations", "solves", "kernel_applications", "underflows",
                               "t", "h", "steps"};
        SEXP vals[7], out;
        vals[0] = NUM((double)ms.factorisations);
        vals[1] = NUM((double)ms.solves);
        vals[2] = NUM((double)ms.kernel_applications);
        vals[3] = NUM((double)ms.underflows);
        vals[4] = NUM(ms.t);
        vals[5] = NUM(ms.h);
        vals[6] = INT(ms.steps);
        out = otkr_named_list(7, names, vals);
        UNPROTECT(7);
        return out;
    }
    {
        const char *names[] = {"nnz"};
        SEXP vals[1], out;
        vals[0] = NUM((double)otk_cost_sparse_nnz(cost));
        out = otkr_named_list(1, names, vals);
        UNPROTECT(1);
        return out;
    }
}

static const double *weights_in(SEXP w, const char *name, size_t n)
{
    const double *v = otkr_vector_opt(w, name, n);
    if (v == NULL)
        Rf_errorcall(R_NilValue, "otkit: %s is required", name);
    return v;
}

/* Sinkhorn (mode 0) or the divergence (mode 1) on one cost. */
SEXP otkr_cost_solve(SEXP kind, SEXP spec, SEXP a, SEXP b, SEXP mode, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    size_t n, m;
    const double *wa, *wb;
    SEXP out, stats;

    build_cost(&h->cost[0], kind, spec, &n, &m);
    wa = weights_in(a, "a", n);
    wb = weights_in(b, "b", m);
    if (Rf_asInteger(mode) == 0) {
        otk_sinkhorn_params par;
        otk_sinkhorn_result r;
        long k;
        int st;
        otk_sinkhorn_params_default(&par);
        par.eps = otkr_opt_num(opt, "eps");
        par.blur = otkr_opt_num(opt, "blur");
        par.scaling = otkr_opt_num(opt, "scaling");
        par.tol = otkr_opt_num(opt, "tol");
        par.max_iter = otkr_opt_int(opt, "max_iter");
        par.threads = otkr_opt_int(opt, "threads");
        otkr_check(otk_sinkhorn_alloc(&h->sinkhorn, h->cost[0], &par));
        otkr_check(otk_sinkhorn_set(h->sinkhorn, wa, wb));
        for (k = 1;; k++) {
            st = otk_sinkhorn_iterate(h->sinkhorn);
            if (st != OTK_CONTINUE)
                break;
            if (k % 16 == 0)
                R_CheckUserInterrupt();
        }
        otkr_check(st);
        otkr_check(otk_sinkhorn_get_result(h->sinkhorn, &r));
        {
            const char *names[] = {"ot_kl", "ot_ent", "ot_lin", "eps", "marginal_error",
                                   "iterations", "annealing_iterations", "status", "f", "g",
                                   "stats"};
            SEXP vals[11];
            vals[0] = NUM(r.ot_kl);
            vals[1] = NUM(r.ot_ent);
            vals[2] = NUM(r.ot_lin);
            vals[3] = NUM(r.eps);
            vals[4] = NUM(r.marginal_error);
            vals[5] = INT(r.iterations);
            vals[6] = INT(r.annealing_iterations);
            vals[7] = INT((int)r.status);
            vals[8] = PROTECT(otkr_vector_out(otk_sinkhorn_potential_f(h->sinkhorn), n));
            vals[9] = PROTECT(otkr_vector_out(otk_sinkhorn_potential_g(h->sinkhorn), m));
            vals[10] = stats = PROTECT(cost_stats(h->cost[0], r.eps));
            out = otkr_named_list(11, names, vals);
            UNPROTECT(11);
        }
    } else {
        otk_divergence_params par;
        otk_divergence_result r;
        SEXP ga = R_NilValue, gb = R_NilValue;
        if (n != m)
            Rf_errorcall(R_NilValue, "otkit: the divergence needs a square cost (n = m)");
        otk_divergence_params_default(&par);
        par.eps = otkr_opt_num(opt, "eps");
        par.blur = otkr_opt_num(opt, "blur");
        par.scaling = otkr_opt_num(opt, "scaling");
        par.tol = otkr_opt_num(opt, "tol");
        par.max_iter = otkr_opt_int(opt, "max_iter");
        par.threads = otkr_opt_int(opt, "threads");
        /* The three problems run one after the other: a grid's or mesh's
         * single workspace is never used twice at once. */
        otkr_check(otk_divergence_alloc_costs(&h->divergence, h->cost[0], h->cost[0],
                                              h->cost[0], &par));
        otkr_check(otk_divergence_solve(h->divergence, wa, wb, &r));
        if (otkr_opt_int(opt, "grad")) {
            double *buf = otkr_scratch(n);
            otkr_check(otk_divergence_grad_a(h->divergence, buf));
            ga = otkr_vector_out(buf, n);
            PROTECT(ga);
            otkr_check(otk_divergence_grad_b(h->divergence, buf));
            gb = otkr_vector_out(buf, m);
            UNPROTECT(1);
        }
        PROTECT(ga);
        PROTECT(gb);
        {
            const char *names[] = {"value", "eps", "marginal_error", "iterations",
                                   "annealing_iterations", "status", "grad_a", "grad_b",
                                   "stats"};
            SEXP vals[9];
            vals[0] = NUM(r.divergence);
            vals[1] = NUM(r.eps);
            vals[2] = NUM(r.marginal_error);
            vals[3] = INT(r.iterations);
            vals[4] = INT(r.annealing_iterations);
            vals[5] = INT((int)r.status);
            vals[6] = ga;
            vals[7] = gb;
            vals[8] = stats = PROTECT(cost_stats(h->cost[0], r.eps));
            out = otkr_named_list(9, names, vals);
            UNPROTECT(9);
        }
    }
    PROTECT(out);
    otkr_holder_free(hp);
    UNPROTECT(2);
    return out;
}

/* The barycenter of the K columns of A (n x K, R's layout: column k is
 * histogram k, contiguous, i.e. otkit's K x n row-major). */
SEXP otkr_cost_barycenter(SEXP kind, SEXP spec, SEXP A, SEXP weights, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    size_t n, m, K;
    SEXP dim = Rf_getAttrib(A, R_DimSymbol);
    otk_barycenter_params par;
    otk_barycenter_result r;
    double *bar;
    const double *w;
    int st;
    SEXP out;

    build_cost(&h->cost[0], kind, spec, &n, &m);
    if (TYPEOF(A) != REALSXP || dim == R_NilValue || LENGTH(dim) != 2 ||
        (size_t)INTEGER(dim)[0] != n)
        Rf_errorcall(R_NilValue, "otkit: A must hold %zu values per histogram", n);
    K = (size_t)INTEGER(dim)[1];
    w = otkr_vector_opt(weights, "weights", K);
    otk_barycenter_params_default(&par);
    par.eps = otkr_opt_num(opt, "eps");
    par.tol = otkr_opt_num(opt, "tol");
    par.max_iter = otkr_opt_int(opt, "max_iter");
    par.debias = otkr_opt_int(opt, "debias");
    par.threads = otkr_opt_int(opt, "threads");
    bar = otkr_scratch(n);
    st = otk_barycenter(h->cost[0], K, REAL(A), w, &par, bar, &r);
    otkr_check(st);
    {
        const char *names[] = {"barycenter", "iterations", "error", "mass", "status", "eps",
                               "stats"};
        SEXP vals[7];
        vals[0] = PROTECT(otkr_vector_out(bar, n));
        vals[1] = INT(r.iterations);
        vals[2] = NUM(r.error);
        vals[3] = NUM(r.mass);
        vals[4] = INT(st);
        vals[5] = NUM(par.eps);
        vals[6] = PROTECT(cost_stats(h->cost[0], par.eps));
        out = PROTECT(otkr_named_list(7, names, vals));
    }
    otkr_holder_free(hp);
    UNPROTECT(9);
    return out;
}

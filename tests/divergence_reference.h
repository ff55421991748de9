/*
 * tests/divergence_reference.h -- GENERATED, DO NOT EDIT.
 *
 * Regenerate with /usr/bin/python3 tests/data/gen_divergence_reference.py
 * from ../shared/reference/geomloss/cases.json.
 *
 * Provenance (../shared/reference/README.md):
 *   GeomLoss's legacy `SamplesLoss("sinkhorn", ...)` (the behaviour of the released
 *   package), `backend="tensorized"`, float64.  Cost convention: |x-y|^p / p
 *   (p = 2 -> 1/2|x-y|^2; p = 1 -> |x-y|); eps = blur^p, rho = reach^p.
 *   cases.json source: geomloss (jeanfeydy/geomloss, legacy SamplesLoss, backend='tensorized', float64), commit 00e493f.
 *   cases.json note: fixed-schedule values: one averaged update per epsilon in epsilon_list, then the final extrapolation; the gradient is GeomLoss's autograd through its final extrapolation step, which equals the envelope gradient only at convergence.
 *
 * Entry k belongs to geomloss_cases[k] of tests/geomloss_reference.h (same
 * problem and parameters, repeated here and checked by the test).
 * `divergence` is SamplesLoss(..., debias=True), GeomLoss's S_eps:
 *   balanced:    <a, f_ba - f_aa> + <b, g_ab - g_bb>
 *   unbalanced:  (rho + eps/2) [<a, e^{-f_aa/rho} - e^{-f_ba/rho}>
 *                               + <b, e^{-g_bb/rho} - e^{-g_ab/rho}>]
 * after GeomLoss's fixed schedule.  `grad_x0` is the first row of GeomLoss's
 * autograd gradient w.r.t. x (through its final extrapolation step only);
 * it equals the envelope gradient only at convergence.
 */
#ifndef OTKIT_TESTS_DIVERGENCE_REFERENCE_H
#define OTKIT_TESTS_DIVERGENCE_REFERENCE_H

struct divergence_case {
    const char *problem;
    double p, blur, scaling, reach; /* reach 0 = None (balanced) */
    int iterations;
    double divergence;
    double grad_x0[3];              /* first row of the x gradient (d entries) */
};

static const struct divergence_case divergence_cases[] = {
    {"uniform_2d", 2.0, 0.050000000000000003, 0.5, 0.0, 7, 0.059247302975015119, {-0.0068983052368391563, -0.0030808850304523579, 0.0}},
    {"uniform_2d", 2.0, 0.050000000000000003, 0.90000000000000002, 0.0, 35, 0.059797051427763953, {-0.0065260632406325212, -0.002971833006041205, 0.0}},
    {"uniform_2d", 2.0, 0.01, 0.80000000000000004, 0.0, 25, 0.06009340307192091, {-0.0068717451183177656, -0.0029025451958590749, 0.0}},
    {"weighted_3d", 2.0, 0.10000000000000001, 0.69999999999999996, 0.0, 11, 0.14454437367958389, {-0.0012403309320390323, -0.0013815104364347866, -0.00065823132484386059}},
    {"weighted_3d", 1.0, 0.10000000000000001, 0.69999999999999996, 0.0, 11, 0.3323367260374408, {-0.0044088038847968636, -0.0037762133689833166, 0.00058360871643201029}},
    {"weighted_3d", 2.0, 0.10000000000000001, 0.69999999999999996, 0.5, 11, 0.087871141557589336, {-0.00099507120017640512, -0.00089135121451031085, -0.00018134076497639331}},
    {"weighted_3d", 1.0, 0.050000000000000003, 0.59999999999999998, 1.0, 10, 0.31502343462406884, {-0.0053608630727153272, -0.0045460250842340871, 0.0019987689994904745}},
    {"shifted_2d_unequal_mass", 2.0, 0.050000000000000003, 0.5, 0.29999999999999999, 7, 0.042878702285422739, {0.0005075002703918835, -0.0010733476776344491, 0.0}},
};

#define DIVERGENCE_NCASES ((int)(sizeof divergence_cases / sizeof divergence_cases[0]))

#endif /* OTKIT_TESTS_DIVERGENCE_REFERENCE_H */

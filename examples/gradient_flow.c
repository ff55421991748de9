/* gradient_flow.c -- a Wasserstein gradient flow of the Sinkhorn divergence.
 *
 * A small ring of points flows onto a larger ring elsewhere in the plane:
 * each step moves x_i against the displacement field dS/dx_i / a_i of
 * S_eps(alpha, beta) (cost |x-y|^2/2, blur 0.05: GeomLoss's defaults).  The
 * divergence object is planned once and its points moved with
 * otk_divergence_set_points.  Prints S_eps every two steps and checks that it
 * decreases at every step and ends below 1 % of its start, then "ok".
 *
 *   cc gradient_flow.c $(pkg-config --cflags --libs otkit) -lm -o gradient_flow
 */
#include <math.h>
#include <stdio.h>

#include <otkit.h>

#define N 64
#define M 96
#define D 2
#define STEPS 10

static int fail(const char *what)
{
    fprintf(stderr, "gradient_flow: %s: %s\n", what, otk_last_error());
    return 1;
}

int main(void)
{
    const double pi = 3.14159265358979323846;
    double x[N * D], y[M * D], disp[N * D];
    for (int i = 0; i < N; i++) {
        x[i * D] = 0.25 + 0.1 * cos(2 * pi * i / N);
        x[i * D + 1] = 0.25 + 0.1 * sin(2 * pi * i / N);
    }
    for (int j = 0; j < M; j++) {
        y[j * D] = 0.7 + 0.25 * cos(2 * pi * j / M);
        y[j * D + 1] = 0.6 + 0.25 * sin(2 * pi * j / M);
    }

    otk_divergence_params par;
    otk_divergence_params_default(&par); /* blur 0.05, scaling 0.5 */
    otk_divergence *div;
    if (otk_divergence_alloc_points(&div, N, M, D, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par) < 0)
        return fail("otk_divergence_alloc_points");

    const double lr = 0.5; /* fraction of the displacement taken per step */
    double first = 0, last = INFINITY;
    int monotone = 1;
    for (int t = 0; t <= STEPS; t++) {
        otk_divergence_result res;
        if (otk_divergence_solve(div, NULL, NULL, &res) < 0)
            return fail("otk_divergence_solve");
        if (t == 0)
            first = res.divergence;
        if (res.divergence > last)
            monotone = 0;
        last = res.divergence;
        if (t % 2 == 0)
            printf("step %2d  S_eps = %.3e\n", t, res.divergence);
        if (t == STEPS)
            break;
        if (otk_divergence_displacement_x(div, disp) < 0)
            return fail("otk_divergence_displacement_x");
        for (int k = 0; k < N * D; k++)
            x[k] -= lr * disp[k];
        if (otk_divergence_set_points(div, x, NULL) < 0)
            return fail("otk_divergence_set_points");
    }
    otk_divergence_free(div);
    printf("S_eps went from %.4f to %.2e (%.2f %% of the start)\n", first, last,
           100 * last / first);
    int ok = monotone && last < 0.01 * first;
    puts(ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

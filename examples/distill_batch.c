/* distill_batch.c -- distillation losses on one batch of logits.
 *
 * A batch of B = 16 student and teacher logits over K = 10 classes: the SinKD
 * loss (Sinkhorn between the batch's class-probability vectors) with its
 * gradient, and the KL, reverse-KL, Jensen-Shannon and soft-cross-entropy
 * baselines.  Checks the SinKD gradient against central finite differences
 * on a few entries, the range of each baseline, and that every loss is
 * smaller for a student closer to the teacher; prints the values, then "ok".
 *
 *   cc distill_batch.c $(pkg-config --cflags --libs otkit) -lm -o distill_batch
 */
#include <math.h>
#include <stdio.h>

#include <otkit.h>

#define B 16
#define K 10

static int fail(const char *what)
{
    fprintf(stderr, "distill_batch: %s: %s\n", what, otk_last_error());
    return 1;
}

int main(void)
{
    double z_t[B * K], z_s[B * K], z_near[B * K], grad[B * K];
    for (int i = 0; i < B; i++)
        for (int k = 0; k < K; k++) {
            /* the teacher is confident about class i mod K; the student is noisy */
            z_t[i * K + k] = (k == i % K ? 4.0 : 0.0) + 0.3 * sin(1.0 + i * K + k);
            z_s[i * K + k] = 1.5 * cos(0.7 * i + 1.3 * k) + (k == i % K ? 1.0 : 0.0);
            z_near[i * K + k] = 0.5 * (z_s[i * K + k] + z_t[i * K + k]);
        }

    otk_sinkd_params par;
    otk_sinkd_params_default(&par); /* tau 2, eps 0.1, 20 iterations, l1 batch cost */
    otk_sinkd *sd;
    if (otk_sinkd_alloc(&sd, B, K, &par) < 0)
        return fail("otk_sinkd_alloc");
    double loss, loss_near;
    if (otk_sinkd_loss(sd, z_s, z_t, &loss, grad, NULL) < 0 ||
        otk_sinkd_loss(sd, z_near, z_t, &loss_near, NULL, NULL) < 0)
        return fail("otk_sinkd_loss");
    printf("SinKD (tau 2, eps 0.1, 20 iterations): %.6f   closer student: %.6f\n", loss,
           loss_near);
    int ok = loss_near < loss;

    /* The gradient (exact adjoint of the 20 iterations) against finite differences. */
    const double h = 1e-6;
    double worst = 0;
    for (int e = 0; e < B * K; e += 37) {
        double save = z_s[e], lp, lm;
        z_s[e] = save + h;
        otk_sinkd_loss(sd, z_s, z_t, &lp, NULL, NULL);
        z_s[e] = save - h;
        otk_sinkd_loss(sd, z_s, z_t, &lm, NULL, NULL);
        z_s[e] = save;
        double fd = (lp - lm) / (2 * h), rel = fabs(fd - grad[e]) / fmax(1e-8, fabs(fd));
        worst = fmax(worst, rel);
    }
    printf("SinKD gradient vs central differences: worst relative error %.1e\n", worst);
    ok = ok && worst < 1e-5;
    otk_sinkd_free(sd);

    static const struct {
        otk_kd_divergence kind;
        const char *name;
        double tau;
    } baselines[] = {{OTK_KD_KL, "tau^2 KL(p_t||p_s), tau 4", 4.0},
                     {OTK_KD_REVERSE_KL, "KL(p_s||p_t), tau 1", 1.0},
                     {OTK_KD_JS, "Jensen-Shannon, tau 1", 1.0},
                     {OTK_KD_SOFT_CE, "soft cross-entropy, tau 1", 1.0}};
    for (int q = 0; q < 4; q++) {
        double v, v_near;
        if (otk_kd_loss(baselines[q].kind, B, K, z_s, z_t, baselines[q].tau, &v, grad) < 0 ||
            otk_kd_loss(baselines[q].kind, B, K, z_near, z_t, baselines[q].tau, &v_near, NULL) < 0)
            return fail("otk_kd_loss");
        printf("%-28s %.6f   closer student: %.6f\n", baselines[q].name, v, v_near);
        ok = ok && v >= 0 && v_near < v;
        if (baselines[q].kind == OTK_KD_JS)
            ok = ok && v <= log(2.0);
    }
    puts(ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

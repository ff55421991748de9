/* Status strings, the thread-local error message and version queries. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <gsl/gsl_errno.h>
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static _Thread_local char last_error[512];

const char *otk_strerror(int status)
{
    switch (status) {
#define OTK_STATUS_TEXT_(name, value, text) \
    case value:                             \
        return text;
        OTK_STATUS_MAP(OTK_STATUS_TEXT_)
#undef OTK_STATUS_TEXT_
    }
    return "unknown status";
}

const char *otk_status_name(int status)
{
    switch (status) {
#define OTK_STATUS_NAME_(name, value, text) \
    case value:                             \
        return #name;
        OTK_STATUS_MAP(OTK_STATUS_NAME_)
#undef OTK_STATUS_NAME_
    }
    return "OTK_UNKNOWN";
}

const char *otk_last_error(void) { return last_error; }

void otk__clear_error(void) { last_error[0] = '\0'; }

otk_status otk__fail(otk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *otk_version_string(void) { return PACKAGE_VERSION; }

int otk_version_number(void)
{
    int major = 0, minor = 0, patch = 0;
    sscanf(PACKAGE_VERSION, "%d.%d.%d", &major, &minor, &patch);
    return major * 10000 + minor * 100 + patch;
}

otk_status otk__check_finite(const char *what, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite", what, i, v[i]);
    return OTK_SUCCESS;
}

otk_status otk__check_weights(const char *what, const double *w, size_t n, double *mass)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite", what, i, w[i]);
        if (w[i] < 0.0)
            return otk__fail(OTK_ENEGATIVE, "%s[%zu] = %g is negative", what, i, w[i]);
        s += w[i];
    }
    if (!(s > 0.0))
        return otk__fail(OTK_EZEROMASS, "%s sums to zero (all %zu weights are 0)", what, n);
    if (!isfinite(s))
        return otk__fail(OTK_ENONFINITE, "%s sums to %g (overflow)", what, s);
    *mass = s;
    return OTK_SUCCESS;
}

int otk__threads(int requested)
{
#ifdef _OPENMP
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

/* GSL's error handler is read and written by GSL without a lock, so it is
 * switched once, not around every call: two fits in two threads would
 * otherwise race on it, and a window with the handler off would hide another
 * thread's GSL errors from a program that relies on GSL aborting (or put its
 * handler back too late). */
static pthread_once_t gsl_handler_once = PTHREAD_ONCE_INIT;

static void gsl_handler_off(void)
{
    gsl_error_handler_t *previous = gsl_set_error_handler_off();
    if (previous)
        gsl_set_error_handler(previous);
}

void otk__gsl_never_abort(void) { pthread_once(&gsl_handler_once, gsl_handler_off); }

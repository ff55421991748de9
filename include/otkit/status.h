/*
 * otkit/status.h — status codes, error messages and version queries.
 *
 * STABILITY: stable: the statuses, their values and names, and these
 * functions change only with a major version.
 *
 * Every otkit function that can fail returns an otk_status:
 *   0   success,
 *   > 0 a warning or a progress code (the call did its work; read the result),
 *   < 0 an error (nothing was computed; outputs are left untouched unless the
 *       function's comment says otherwise).
 * A failing call also records a human-readable message naming the offending
 * argument and, where relevant, the index ("b[7] = -0.25 is negative").
 *
 * THREAD SAFETY: all functions here are thread-safe.  The last-error message is
 * thread-local: it reports the most recent failure in the calling thread.
 */
#ifndef OTKIT_STATUS_H
#define OTKIT_STATUS_H

#include "otkit/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(OTK_BUILDING_LIBRARY)
#define OTK_EXPORT __declspec(dllexport)
#elif defined(OTK_BUILDING_LIBRARY) && defined(__GNUC__)
#define OTK_EXPORT __attribute__((visibility("default")))
#else
#define OTK_EXPORT
#endif

/* The single list of statuses: name, value, short description.  The enum and
 * otk_strerror()/otk_status_name() are generated from it, so they never drift. */
#define OTK_STATUS_MAP(X)                                                          \
    X(OTK_SUCCESS, 0, "success")                                                   \
    X(OTK_NOT_CONVERGED, 1, "did not reach the tolerance within max_iter")        \
    X(OTK_CONTINUE, 2, "iteration in progress: call iterate again")               \
    X(OTK_ENULL, -1, "a required pointer argument is NULL")                       \
    X(OTK_ENONFINITE, -2, "an input value is NaN or infinite")                     \
    X(OTK_ENEGATIVE, -3, "a weight is negative")                                   \
    X(OTK_EZEROMASS, -4, "weights sum to zero")                                    \
    X(OTK_ESIZE, -5, "sizes are zero or do not match")                             \
    X(OTK_EPARAM, -6, "a parameter is out of its range (e.g. eps <= 0)")          \
    X(OTK_EMASS, -7, "a balanced problem needs equal total masses")               \
    X(OTK_ENOMEM, -8, "out of memory")                                             \
    X(OTK_ESTATE, -9, "call out of order (e.g. iterate before set)")              \
    X(OTK_EUNSUPPORTED, -10, "operation not supported by this cost kind")         \
    X(OTK_ENUMERIC, -11, "numerical breakdown (a non-finite value appeared)")           \
    X(OTK_ERANGE, -12, "an index (e.g. a class label) is out of range")                \
    X(OTK_ESHAPE, -13, "grid or image shapes do not match")                             \
    X(OTK_EDEGENERATE, -14, "degenerate geometry (zero-area face, self-loop)")          \
    X(OTK_ENONMANIFOLD, -15, "an edge is shared by more than two faces")                \
    X(OTK_EDISCONNECTED, -16, "mesh or graph is disconnected (or a vertex unused)")     \
    X(OTK_EPARSE, -17, "malformed input file (the message has the line)")               \
    X(OTK_EIO, -18, "a file could not be opened or read")                               \
    X(OTK_EEMPTY, -19, "a row or column of a sparse cost has no entry")

typedef enum {
#define OTK_STATUS_ENUM_(name, value, text) name = value,
    OTK_STATUS_MAP(OTK_STATUS_ENUM_)
#undef OTK_STATUS_ENUM_
} otk_status;

/* Every enum of the library is generated, like the statuses, from one list
 * X(MEMBER, VALUE, "name"), OTK_<ENUM>_MAP in its header; the same list gives
 * its name table (otkit/names.h).  Values run from 0 without gaps. */
#define OTK_ENUM_MEMBER_(member, value, text) member = value,

/* A static, never-NULL description of a status ("a weight is negative").
 * Unknown values give "unknown status". */
OTK_EXPORT const char *otk_strerror(int status);

/* The symbolic name of a status ("OTK_ENEGATIVE"), or "OTK_UNKNOWN". */
OTK_EXPORT const char *otk_status_name(int status);

/* The message recorded by the most recent failing otkit call in this thread,
 * naming the argument and index at fault; "" when none.  The pointer stays
 * valid until the next otkit call in the same thread. */
OTK_EXPORT const char *otk_last_error(void);

/* Version of the library actually linked, e.g. "0.1.0", and as a number
 * major*10000 + minor*100 + patch.  The headers' own version, for
 * compile-time checks, is OTK_VERSION_MAJOR/MINOR/PATCH, OTK_VERSION_NUMBER
 * and OTK_VERSION_STRING (otkit/version.h, included here). */
OTK_EXPORT const char *otk_version_string(void);
OTK_EXPORT int otk_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_STATUS_H */

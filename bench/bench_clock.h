/*
** bench_clock.h — the clock and the sort order every benchmark program measures with, so
** that their figures are taken the same way.
*/
#ifndef WARDEN_BENCH_CLOCK_H
#define WARDEN_BENCH_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock: wall time, which is what a caller waits. */
static inline double bench_now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* qsort order for doubles, ascending (medians and percentiles). */
static inline int bench_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif

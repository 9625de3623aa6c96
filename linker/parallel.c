#include <pthread.h>
#include <unistd.h>

#include "parallel.h"

unsigned
linker_threads(unsigned want)
{
    long online;

    if (want == 0) {
        online = sysconf(_SC_NPROCESSORS_ONLN);
        want = online > 0 ? (unsigned)online : 1;
    }
    return want < LINKER_MAX_THREADS ? want : LINKER_MAX_THREADS;
}

struct s_part {
    void (*fn)(void *, unsigned, unsigned);
    void *arg;
    unsigned t, n;
};

static void *
s_run(void *p)
{
    struct s_part *part = p;

    part->fn(part->arg, part->t, part->n);
    return NULL;
}

void
linker_parallel(unsigned n, void (*fn)(void *arg, unsigned t, unsigned n), void *arg)
{
    pthread_t tid[LINKER_MAX_THREADS];
    struct s_part part[LINKER_MAX_THREADS];
    int started[LINKER_MAX_THREADS] = {0};

    n = n < 1 ? 1 : n < LINKER_MAX_THREADS ? n : LINKER_MAX_THREADS;
    for (unsigned t = 1; t < n; t++) {
        part[t] = (struct s_part){fn, arg, t, n};
        started[t] = pthread_create(&tid[t], NULL, s_run, &part[t]) == 0;
    }
    fn(arg, 0, n);
    for (unsigned t = 1; t < n; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(arg, t, n);
    }
}

void
linker_share(size_t total, unsigned t, unsigned n, size_t *lo, size_t *hi)
{
    *lo = total / n * t + (t < total % n ? t : total % n);
    *hi = *lo + total / n + (t < total % n);
}

int
linker_parallel_rc(const int *rc, unsigned n)
{
    int r = 0;

    for (unsigned t = 0; t < n; t++)
        r = rc[t] != 0 ? rc[t] : r;
    return r;
}

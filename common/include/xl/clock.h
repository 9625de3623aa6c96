/* Time for measuring intervals: never goes backwards, unlike the wall clock. */
#ifndef XL_CLOCK_H
#define XL_CLOCK_H

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double xl_monotonic(void);

/* Sleeps for seconds, resuming after a signal. */
void xl_sleep(double seconds);

#endif

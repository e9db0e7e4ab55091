/* report_svg.h - the report's pictures as inline SVG: line plots of a
 * campaign's figures over time, and a run's timeline (timeline.h). All the
 * geometry is computed here; the page's script only shows and hides.
 *
 * Every point and mark carries its values as text (a <title> child for
 * the browser's own tooltip, and data-tip for the page's), so the page is
 * readable without its script. Colours are attributes, classes name what
 * is drawn (plot, series, lane, span, m-<kind>, fate-<fate>) for the
 * page's CSS and its checks.
 */
#ifndef ASYNCFUZZ_REPORT_SVG_H
#define ASYNCFUZZ_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "reports/timeline.h"

/* An axis: ticks from lo to hi every step (1, 2 or 5 times a power of
 * ten), lo and hi multiples of step. */
typedef struct af_scale {
    double lo, hi, step;
    int nticks;
} af_scale;

/* The scale covering [lo, hi] with at most max_ticks + 1 ticks. An empty
 * range (lo == hi) widens to a step on either side of the value (from 0
 * when the value is 0); a range that is not finite gives [0, 1]. */
void af_scale_nice(double lo, double hi, int max_ticks, af_scale *out);
/* The same for durations in seconds: steps of 1, 2, 5, 10, 15 or 30
 * seconds or minutes, 1, 2, 3, 6 or 12 hours, or whole days. */
void af_scale_nice_time(double lo, double hi, int max_ticks, af_scale *out);
/* v on the scale, mapped linearly to [px_lo, px_hi]. */
double af_scale_map(const af_scale *s, double v, double px_lo, double px_hi);
/* A tick label: "1.5k", "2M", "0.25"; durations ("45s", "15m", "2h", in
 * the unit of the step) when as_time. snprintf semantics. */
int af_svg_number(double v, double step, bool as_time, char *buf, size_t cap);

/* One line: n points (x[i], y[i]); a NaN y leaves a gap. */
typedef struct af_series {
    const char *name;
    const double *x, *y;
    int n;
} af_series;

/* A vertical line across the plot (a run's start). */
typedef struct af_vmark {
    double x;
    const char *label;
} af_vmark;

typedef struct af_plot {
    const char *id; /* the svg's id (may be NULL) */
    const char *title;
    const char *x_label, *y_label;
    bool x_is_seconds; /* x ticks as durations */
    const af_series *series;
    int nseries;
    const af_vmark *marks;
    int nmarks;
    int width, height; /* 0: 560 x 260 */
} af_plot;

/* <svg class="plot" ...> of p: axes, grid, one path per series with a
 * circle per point (thinned above 240 points), legend; "no data" when no
 * series has a point. 0, or -1 on a write error. */
int af_svg_plot(FILE *out, const af_plot *p);

/* <svg class="timeline" ...>: lanes (class "lane", data-task), spans,
 * marks, the root's end, a budget, the verdict. 0, or -1 on a write
 * error. */
int af_svg_timeline(FILE *out, const af_timeline *t, const char *id);

/* <svg class="timeline-legend">: every mark kind and request fate as the
 * timelines draw them, with their meaning. */
int af_svg_timeline_legend(FILE *out);

#endif

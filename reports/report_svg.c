/* report_svg.c - the report's plots and timelines as SVG (report_svg.h).
 * Geometry only: what to draw comes from the caller's series and from the
 * timeline model (timeline.c); nothing here reads files or judges.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "reports/junit.h"
#include "reports/report_svg.h"

/* ---- scales and numbers ---- */

/* lo <= hi, finite, and not equal. */
static void ordered_range(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    if (*lo > *hi) {
        double t = *lo;
        *lo = *hi;
        *hi = t;
    }
    if (*lo == *hi) {
        double mag = *lo == 0 ? 1 : pow(10, floor(log10(fabs(*lo))));
        if (*lo == 0)
            *hi = 1;
        else {
            *lo -= mag;
            *hi += mag;
        }
    }
}

/* Ticks every step from lo and hi rounded outwards. */
static void fill_scale(double lo, double hi, double step, af_scale *out)
{
    out->step = step;
    out->lo = floor(lo / step + 1e-9) * step;
    out->hi = ceil(hi / step - 1e-9) * step;
    out->nticks = (int)lround((out->hi - out->lo) / step) + 1;
}

void af_scale_nice(double lo, double hi, int max_ticks, af_scale *out)
{
    ordered_range(&lo, &hi);
    if (max_ticks < 1)
        max_ticks = 1;
    double raw = (hi - lo) / max_ticks;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    fill_scale(lo, hi, (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag, out);
}

void af_scale_nice_time(double lo, double hi, int max_ticks, af_scale *out)
{
    static const double steps[] = {1,   2,   5,    10,   15,   30,    60,    120,   300,
                                   600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    ordered_range(&lo, &hi);
    if (max_ticks < 1)
        max_ticks = 1;
    double raw = (hi - lo) / max_ticks;
    if (raw < 1 || raw > 86400) { /* below a second, above a day: decimal steps */
        af_scale_nice(lo, hi, max_ticks, out);
        if (raw > 86400)
            fill_scale(lo, hi, ceil(out->step / 86400) * 86400, out);
        return;
    }
    size_t i = 0;
    while (i + 1 < sizeof steps / sizeof steps[0] && steps[i] < raw)
        i++;
    fill_scale(lo, hi, steps[i], out);
}

double af_scale_map(const af_scale *s, double v, double px_lo, double px_hi)
{
    double span = s->hi - s->lo;
    return px_lo + (span > 0 ? (v - s->lo) / span : 0.5) * (px_hi - px_lo);
}

int af_svg_number(double v, double step, bool as_time, char *buf, size_t cap)
{
    if (fabs(v) < 1e-12 * (step > 0 ? step : 1))
        v = 0;
    if (as_time) {
        double a = step > 0 ? step : fabs(v);
        if (a >= 86400 && step > 0)
            return snprintf(buf, cap, "%.3gd", v / 86400);
        if (a >= 3600)
            return snprintf(buf, cap, "%.3gh", v / 3600);
        if (a >= 60)
            return snprintf(buf, cap, "%.3gm", v / 60);
        return snprintf(buf, cap, "%.3gs", v);
    }
    if (fabs(v) >= 1e9)
        return snprintf(buf, cap, "%.3gG", v / 1e9);
    if (fabs(v) >= 1e6)
        return snprintf(buf, cap, "%.3gM", v / 1e6);
    if (fabs(v) >= 1e4 || (fabs(v) >= 1e3 && step >= 100))
        return snprintf(buf, cap, "%.3gk", v / 1e3);
    int decimals = step > 0 && step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;
    return snprintf(buf, cap, "%.*f", decimals, v);
}

/* ---- writing ---- */

__attribute__((format(printf, 2, 3))) static void put(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

/* A text's <title> (the browser's tooltip) and data-tip attribute
 * opening an element: `<TAG class="CLASS" data-tip="TEXT"` ... */
static void open_tip(FILE *out, const char *tag, const char *cls, const char *text)
{
    put(out, "<%s class=\"%s\" data-tip=\"", tag, cls);
    af_xml_put_escaped(out, text);
    fputs("\"><title>", out);
    af_xml_put_escaped(out, text);
    fputs("</title>", out);
}

static const char *const palette[] = {"#1f6fb4", "#d9590b", "#2a9d48", "#8e44ad", "#b8860b"};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* ---- plots ---- */

enum { PLOT_W = 560, PLOT_H = 260, M_LEFT = 58, M_RIGHT = 16, M_TOP = 52, M_BOTTOM = 36 };

static bool finite_point(const af_series *s, int i)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]);
}

/* The data's extent; false when there is no point. */
static bool extent(const af_plot *p, double *x0, double *x1, double *y0, double *y1)
{
    bool any = false;
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->series[k].n; i++) {
            if (!finite_point(&p->series[k], i))
                continue;
            any = true;
            *x0 = fmin(*x0, p->series[k].x[i]);
            *x1 = fmax(*x1, p->series[k].x[i]);
            *y0 = fmin(*y0, p->series[k].y[i]);
            *y1 = fmax(*y1, p->series[k].y[i]);
        }
    for (int m = 0; any && m < p->nmarks; m++) {
        *x0 = fmin(*x0, p->marks[m].x);
        *x1 = fmax(*x1, p->marks[m].x);
    }
    return any;
}

typedef struct frame {
    af_scale xs, ys;
    double left, right, top, bottom;
} frame;

static double fx(const frame *f, double x)
{
    return af_scale_map(&f->xs, x, f->left, f->right);
}

static double fy(const frame *f, double y)
{
    return af_scale_map(&f->ys, y, f->bottom, f->top);
}

static void plot_axes(FILE *out, const af_plot *p, const frame *f, int w, int h)
{
    char num[32];
    fputs("<g class=\"grid\">", out);
    for (int i = 0; i < f->ys.nticks; i++) {
        double v = f->ys.lo + i * f->ys.step, y = fy(f, v);
        af_svg_number(v, f->ys.step, false, num, sizeof num);
        put(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" "
            "fill=\"#555\">%s</text>",
            f->left, y, f->right, y, f->left - 5, y + 3.5, num);
    }
    for (int i = 0; i < f->xs.nticks; i++) {
        double v = f->xs.lo + i * f->xs.step, x = fx(f, v);
        af_svg_number(v, f->xs.step, p->x_is_seconds, num, sizeof num);
        put(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" "
            "fill=\"#555\">%s</text>",
            x, f->top, x, f->bottom, x, f->bottom + 13, num);
    }
    fputs("</g>", out);
    put(out,
        "<g class=\"axes\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>"
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>",
        f->left, f->bottom, f->right, f->bottom, f->left, f->top, f->left, f->bottom);
    put(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">",
        (f->left + f->right) / 2, h - 4);
    af_xml_put_escaped(out, p->x_label);
    put(out,
        "</text><text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"11\" fill=\"#333\">",
        (f->top + f->bottom) / 2);
    af_xml_put_escaped(out, p->y_label);
    fputs("</text></g>", out);
    (void)w;
}

static void plot_marks(FILE *out, const af_plot *p, const frame *f)
{
    for (int m = 0; m < p->nmarks; m++) {
        double x = fx(f, p->marks[m].x);
        open_tip(out, "g", "run-mark", p->marks[m].label);
        put(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
            "stroke-dasharray=\"3 3\"/></g>",
            x, f->top, x, f->bottom);
    }
}

static void plot_series(FILE *out, const af_plot *p, const frame *f, int k)
{
    const af_series *s = &p->series[k];
    const char *color = palette[k % NPALETTE];
    put(out,
        "<g class=\"series s%d\" data-points=\"%d\"><path fill=\"none\" stroke=\"%s\" "
        "stroke-width=\"1.8\" d=\"",
        k, s->n, color);
    bool pen = false;
    for (int i = 0; i < s->n; i++) {
        if (!finite_point(s, i)) {
            pen = false;
            continue;
        }
        put(out, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"), fx(f, s->x[i]), fy(f, s->y[i]));
        pen = true;
    }
    fputs("\"/>", out);
    int every = s->n > 240 ? (s->n + 239) / 240 : 1;
    for (int i = 0; i < s->n; i++) {
        if (!finite_point(s, i) || (i % every && i != s->n - 1))
            continue;
        char xs[32], tip[160];
        af_svg_number(s->x[i], 0, p->x_is_seconds, xs, sizeof xs);
        snprintf(tip, sizeof tip, "%s: %.6g at %s", s->name, s->y[i], xs);
        open_tip(out, "g", "pt", tip);
        put(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/></g>", fx(f, s->x[i]),
            fy(f, s->y[i]), s->n == 1 ? 4.0 : 2.6, color);
    }
    fputs("</g>", out);
}

/* The series' names above the plot, in rows of what fits the width. */
static void plot_legend(FILE *out, const af_plot *p, const frame *f)
{
    double x = f->left, y = 25;
    fputs("<g class=\"legend\">", out);
    for (int k = 0; k < p->nseries; k++) {
        double w = 26 + 5.8 * (double)strlen(p->series[k].name);
        if (x > f->left && x + w > f->right) {
            x = f->left;
            y += 12;
        }
        put(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10.5\" fill=\"#333\">",
            x, y, palette[k % NPALETTE], x + 16, y + 6);
        af_xml_put_escaped(out, p->series[k].name);
        fputs("</text>", out);
        x += w;
    }
    fputs("</g>", out);
}

int af_svg_plot(FILE *out, const af_plot *p)
{
    int w = p->width > 0 ? p->width : PLOT_W, h = p->height > 0 ? p->height : PLOT_H;
    double x0, x1, y0, y1;
    bool any = extent(p, &x0, &x1, &y0, &y1);
    frame f = {.left = M_LEFT, .right = w - M_RIGHT, .top = M_TOP, .bottom = h - M_BOTTOM};
    if (p->x_is_seconds)
        af_scale_nice_time(any ? x0 : 0, any ? x1 : 1, 6, &f.xs);
    else
        af_scale_nice(any ? x0 : 0, any ? x1 : 1, 6, &f.xs);
    af_scale_nice(any ? fmin(0, y0) : 0, any ? y1 : 1, 5, &f.ys);
    int points = 0;
    for (int k = 0; k < p->nseries; k++)
        points += p->series[k].n;
    fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"", out);
    if (p->id) {
        fputs(" id=\"", out);
        af_xml_put_escaped(out, p->id);
        fputs("\"", out);
    }
    put(out,
        " data-series=\"%d\" data-points=\"%d\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
        p->nseries, any ? points : 0, w, h, w, h);
    af_xml_put_escaped(out, p->title);
    put(out,
        "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
        "<text x=\"%d\" y=\"15\" font-size=\"13\" font-weight=\"bold\" fill=\"#222\">",
        w, h, M_LEFT);
    af_xml_put_escaped(out, p->title);
    fputs("</text>", out);
    plot_axes(out, p, &f, w, h);
    if (!any)
        put(out,
            "<text class=\"no-data\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "font-size=\"13\" fill=\"#999\">no data</text>",
            (f.left + f.right) / 2, (f.top + f.bottom) / 2);
    else {
        plot_marks(out, p, &f);
        for (int k = 0; k < p->nseries; k++)
            plot_series(out, p, &f, k);
        plot_legend(out, p, &f);
    }
    fputs("</svg>", out);
    return ferror(out) ? -1 : 0;
}

/* ---- timelines ---- */

enum { TL_LABEL_W = 178, TL_AXIS_H = 46, TL_LANE_H = 26, TL_DEPTH_H = 7, TL_BOTTOM = 10 };
/* The row of the phase labels (root finished, budget, verdict). */
enum { TL_PHASE_Y = 40 };

typedef struct tl_geom {
    double x0, width, pos_max;
    double *lane_y; /* top of each lane */
    double height;
} tl_geom;

static double tl_x(const tl_geom *g, const af_timeline *t, int slot)
{
    if (slot < 0 || slot >= t->nslots)
        slot = t->nslots - 1;
    if (g->pos_max <= 0)
        return g->x0 + g->width / 2;
    return g->x0 + t->slot_pos[slot] / g->pos_max * g->width;
}

static double lane_mid(const tl_geom *g, int lane)
{
    return g->lane_y[lane] + 11;
}

/* How each mark kind is drawn: a shape ('o' circle, 'd' diamond, 's'
 * square, 'v' triangle down, '^' triangle up, 'x' cross), size, fill,
 * stroke. */
typedef struct mark_style {
    char shape;
    double r;
    const char *fill, *stroke;
} mark_style;

static const mark_style kind_style[AF_TL_KIND_COUNT] = {
    [AF_TL_CREATED] = {'o', 4, "#ffffff", "#333333"},
    [AF_TL_RESULT] = {'o', 4.5, "#2a9d48", "#1d6e33"},
    [AF_TL_EXCEPTION] = {'d', 5.5, "#d62728", "#8c1a1a"},
    [AF_TL_CANCELLED] = {'s', 4.5, "#e08a00", "#8a5400"},
    [AF_TL_PENDING] = {'^', 5, "#ffffff", "#777777"},
    [AF_TL_RAISE] = {'d', 3.5, "#f08080", "#b22222"},
    [AF_TL_CAUGHT] = {'o', 3, "#8e44ad", "#5b2c6f"},
    [AF_TL_LOOP_EXC] = {'x', 4.5, "none", "#b22222"},
    [AF_TL_REQUEST] = {'v', 5, "#e08a00", "#8a5400"},
    [AF_TL_SETTLED] = {'o', 4.5, "#ffffff", "#555555"},
    [AF_TL_VERDICT] = {'d', 6.5, "#ffd400", "#c00000"},
};

/* A request's colour by its fate. */
static const char *const fate_color[AF_FATE_COUNT] = {
    [AF_FATE_OUTSTANDING] = "#b22222", [AF_FATE_FORWARDED] = "#7f7f7f",
    [AF_FATE_WITHDRAWN] = "#7f7f7f",   [AF_FATE_HANDLED] = "#1f6fb4",
    [AF_FATE_DELIVERED] = "#2a9d48",   [AF_FATE_LOST] = "#d62728",
    [AF_FATE_UNDELIVERED] = "#d62728",
};

static void shape(FILE *out, const mark_style *s, double x, double y, const char *stroke)
{
    double r = s->r;
    switch (s->shape) {
    case 'd':
        put(out, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x, y - r, x + r, y, x,
            y + r, x - r, y);
        break;
    case 's':
        put(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x - r, y - r, 2 * r,
            2 * r);
        break;
    case 'v':
        put(out, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x - r, y - r, x + r, y - r, x,
            y + r * 0.8);
        break;
    case '^':
        put(out, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x - r, y + r * 0.8, x + r,
            y + r * 0.8, x, y - r);
        break;
    case 'x':
        put(out, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" stroke-width=\"2.2\"", x - r,
            y - r, x + r, y + r, x - r, y + r, x + r, y - r);
        break;
    default:
        put(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", x, y, r);
    }
    put(out, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.4\"/>", s->fill, stroke);
}

static void tl_axis(FILE *out, const af_timeline *t, const tl_geom *g)
{
    put(out,
        "<g class=\"tl-axis\"><text x=\"8\" y=\"20\" font-size=\"11\" fill=\"#333\">virtual "
        "time</text><line x1=\"%.1f\" y1=\"26\" x2=\"%.1f\" y2=\"26\" stroke=\"#999\"/>",
        g->x0, g->x0 + g->width);
    double last_label = -1e9;
    for (int s = 0; s < t->nslots; s++) {
        double x = tl_x(g, t, s);
        bool new_time = s == 0 || t->slot_vtime[s] != t->slot_vtime[s - 1];
        put(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"26\" stroke=\"#bbb\"/>", x,
            new_time ? 20 : 23, x);
        if (new_time && x - last_label >= 34) {
            put(out,
                "<text x=\"%.1f\" y=\"15\" text-anchor=\"middle\" font-size=\"10\" "
                "fill=\"#444\">%lld</text>",
                x, (long long)t->slot_vtime[s]);
            last_label = x;
        }
    }
    fputs("</g>", out);
}

/* The root's end (what follows is the harness's cleanup) and a budget. */
static void tl_phases(FILE *out, const af_timeline *t, const tl_geom *g)
{
    if (t->end_slot >= 0) {
        double x = tl_x(g, t, t->end_slot);
        open_tip(out, "g", "tl-end",
                 "the root task finished here; what follows is the harness cancelling and "
                 "draining the tasks left pending, then the final garbage collection");
        put(out,
            "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"#f2f2f2\"/>"
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\" "
            "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
            "fill=\"#555\">root finished</text></g>",
            x, TL_AXIS_H - 4, g->x0 + g->width + 12 - x, g->height - TL_AXIS_H, x, 28, x,
            g->height - TL_BOTTOM, x + 3, TL_PHASE_Y);
    }
    if (t->budget_slot >= 0) {
        double x = tl_x(g, t, t->budget_slot);
        open_tip(out, "g", "tl-budget", "a budget stopped the run here");
        put(out,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b22222\" "
            "stroke-dasharray=\"6 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
            "fill=\"#b22222\">budget</text></g>",
            x, 28, x, g->height - TL_BOTTOM, x + 3, TL_PHASE_Y);
    }
}

static void tl_lane(FILE *out, const af_timeline *t, const tl_geom *g, int l)
{
    const af_tl_lane *L = &t->lanes[l];
    double y = g->lane_y[l], h = TL_LANE_H + TL_DEPTH_H * L->depth, mid = lane_mid(g, l);
    put(out, "<g class=\"lane\" data-task=\"%d\">", L->task);
    if (l % 2)
        put(out, "<rect x=\"0\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f7f9fc\"/>", y,
            g->x0 + g->width + 12, h);
    char label[96];
    snprintf(label, sizeof label, "%s (task %d)", L->name, L->task);
    open_tip(out, "g", "lane-label", label);
    put(out, "<text x=\"8\" y=\"%.1f\" font-size=\"11\" fill=\"#222\">%.22s%s</text></g>", mid + 4,
        L->name, strlen(L->name) > 22 ? "…" : "");
    double xa = tl_x(g, t, L->slot_new >= 0 ? L->slot_new : 0);
    double xb = tl_x(g, t, L->slot_done >= 0 ? L->slot_done : t->nslots - 1);
    put(out,
        "<line class=\"alive\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#9aa7b8\" stroke-width=\"2\"%s/>",
        xa, mid, xb, mid, L->slot_done < 0 ? " stroke-dasharray=\"5 3\"" : "");
    for (int k = 0; k < L->nspans; k++) {
        const af_tl_span *s = &L->spans[k];
        double x0 = tl_x(g, t, s->slot0), x1 = tl_x(g, t, s->slot1);
        char cls[48];
        snprintf(cls, sizeof cls, "span%s%s", s->raised ? " raised" : "", s->open ? " open" : "");
        open_tip(out, "g", cls, s->text);
        put(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"5\" rx=\"1.5\" fill=\"%s\" "
            "stroke=\"%s\" stroke-width=\"0.6\"/></g>",
            x0, y + 19 + TL_DEPTH_H * s->depth, fmax(x1 - x0, 3), s->raised ? "#f4b6b6" : "#a9c7e8",
            s->raised ? "#b22222" : "#3f6d9e");
    }
    fputs("</g>", out);
}

/* A request's life on its lane, made to settled (or to the lane's end
 * while outstanding), and the link from the lane of the task that made it. */
static void tl_request_lines(FILE *out, const af_timeline *t, const tl_geom *g, int l)
{
    const af_tl_lane *L = &t->lanes[l];
    for (int k = 0; k < L->nmarks; k++) {
        const af_tl_mark *m = &L->marks[k];
        if (m->kind != AF_TL_REQUEST)
            continue;
        double x = tl_x(g, t, m->slot), mid = lane_mid(g, l);
        const char *color = fate_color[m->fate];
        if (m->from_lane >= 0 && m->from_lane != l)
            put(out,
                "<line class=\"req-link\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-dasharray=\"2 2\"/>",
                x, lane_mid(g, m->from_lane), x, mid, color);
        double x1 = tl_x(g, t, L->slot_done >= 0 ? L->slot_done : t->nslots - 1);
        for (int j = 0; m->request >= 0 && j < L->nmarks; j++)
            if (L->marks[j].kind == AF_TL_SETTLED && L->marks[j].request == m->request)
                x1 = tl_x(g, t, L->marks[j].slot);
        put(out,
            "<line class=\"req-life fate-%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"%s\" stroke-width=\"2.5\" stroke-opacity=\"0.55\"/>",
            af_request_fate_name(m->fate), x, mid - 7, fmax(x1, x + 2), mid - 7, color);
    }
}

static void tl_marks(FILE *out, const af_timeline *t, const tl_geom *g, int l)
{
    const af_tl_lane *L = &t->lanes[l];
    for (int k = 0; k < L->nmarks; k++) {
        const af_tl_mark *m = &L->marks[k];
        double x = tl_x(g, t, m->slot), y = lane_mid(g, l);
        char cls[64];
        bool fated = m->kind == AF_TL_REQUEST || m->kind == AF_TL_SETTLED;
        snprintf(cls, sizeof cls, "m m-%s%s%s", af_tl_kind_name(m->kind), fated ? " fate-" : "",
                 fated ? af_request_fate_name(m->fate) : "");
        open_tip(out, "g", cls, m->text);
        mark_style st = kind_style[m->kind];
        const char *stroke = st.stroke;
        if (m->kind == AF_TL_SETTLED) {
            stroke = fate_color[m->fate];
            if (m->fate == AF_FATE_LOST || m->fate == AF_FATE_UNDELIVERED)
                st.shape = 'x', st.fill = "none";
        }
        if (m->kind == AF_TL_REQUEST)
            y -= 7;
        if (m->kind == AF_TL_VERDICT)
            put(out,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00000\" "
                "stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
                "font-weight=\"bold\" fill=\"#c00000\" text-anchor=\"end\">verdict</text>",
                x, 28, x, g->height - TL_BOTTOM, x - 4, TL_PHASE_Y);
        shape(out, &st, x, y, stroke);
        fputs("</g>", out);
    }
}

int af_svg_timeline(FILE *out, const af_timeline *t, const char *id)
{
    tl_geom g = {.x0 = TL_LABEL_W + 10};
    g.pos_max = t->nslots > 0 ? t->slot_pos[t->nslots - 1] : 0;
    g.width = fmin(fmax(g.pos_max * 22, 900), 3600);
    g.lane_y = calloc((size_t)t->nlanes + 1, sizeof *g.lane_y);
    if (!g.lane_y)
        return -1;
    double y = TL_AXIS_H;
    for (int l = 0; l < t->nlanes; l++) {
        g.lane_y[l] = y;
        y += TL_LANE_H + TL_DEPTH_H * t->lanes[l].depth;
    }
    g.height = y + TL_BOTTOM;
    int w = (int)ceil(g.x0 + g.width + 90); /* room for the phase labels at the end */
    fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\"", out);
    if (id) {
        fputs(" id=\"", out);
        af_xml_put_escaped(out, id);
        fputs("\"", out);
    }
    put(out,
        " data-lanes=\"%d\" data-slots=\"%d\" data-requests=\"%d\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\"><rect width=\"%d\" height=\"%d\" "
        "fill=\"#fff\"/>",
        t->nlanes, t->nslots, t->requests.count, w, (int)ceil(g.height), w, (int)ceil(g.height), w,
        (int)ceil(g.height));
    tl_phases(out, t, &g);
    tl_axis(out, t, &g);
    for (int l = 0; l < t->nlanes; l++)
        tl_lane(out, t, &g, l);
    for (int l = 0; l < t->nlanes; l++)
        tl_request_lines(out, t, &g, l);
    for (int l = 0; l < t->nlanes; l++)
        tl_marks(out, t, &g, l);
    fputs("</svg>", out);
    free(g.lane_y);
    return ferror(out) ? -1 : 0;
}

int af_svg_timeline_legend(FILE *out)
{
    static const struct {
        af_tl_kind kind;
        int fate; /* -1: none */
        const char *text;
    } items[] = {
        {AF_TL_CREATED, -1, "created"},
        {AF_TL_RESULT, -1, "finished: result"},
        {AF_TL_EXCEPTION, -1, "finished: exception"},
        {AF_TL_CANCELLED, -1, "finished: cancelled"},
        {AF_TL_PENDING, -1, "pending at the end"},
        {AF_TL_RAISE, -1, "an op raised"},
        {AF_TL_CAUGHT, -1, "handler caught CancelledError"},
        {AF_TL_LOOP_EXC, -1, "loop exception handler"},
        {AF_TL_REQUEST, AF_FATE_OUTSTANDING, "cancel request made"},
        {AF_TL_SETTLED, AF_FATE_DELIVERED, "request delivered"},
        {AF_TL_SETTLED, AF_FATE_WITHDRAWN, "withdrawn (uncancel)"},
        {AF_TL_SETTLED, AF_FATE_HANDLED, "handled by a handler"},
        {AF_TL_SETTLED, AF_FATE_LOST, "lost / undelivered"},
        {AF_TL_VERDICT, -1, "the verdict"},
    };
    enum { N = sizeof items / sizeof items[0], COL_W = 200, ROW_H = 20, COLS = 5 };
    int rows = (N + COLS - 1) / COLS;
    put(out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline-legend\" width=\"%d\" "
        "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">",
        COLS * COL_W + 250, rows * ROW_H + 6, COLS * COL_W + 250, rows * ROW_H + 6);
    for (int i = 0; i < N; i++) {
        double x = 10 + (i % COLS) * COL_W, y = 12 + (i / COLS) * ROW_H;
        mark_style st = kind_style[items[i].kind];
        const char *stroke = st.stroke;
        if (items[i].kind == AF_TL_SETTLED) {
            stroke = fate_color[items[i].fate];
            if (items[i].fate == AF_FATE_LOST)
                st.shape = 'x', st.fill = "none";
        }
        shape(out, &st, x, y, stroke);
        put(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">%s</text>", x + 12,
            y + 4, items[i].text);
    }
    double x = 10 + COLS * COL_W, y = 12;
    put(out,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"26\" height=\"5\" fill=\"#a9c7e8\" "
        "stroke=\"#3f6d9e\" stroke-width=\"0.6\"/><text x=\"%.1f\" y=\"%.1f\" "
        "font-size=\"11\" fill=\"#333\">inside an op (await, block)</text>"
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"26\" height=\"5\" fill=\"#f4b6b6\" "
        "stroke=\"#b22222\" stroke-width=\"0.6\"/><text x=\"%.1f\" y=\"%.1f\" "
        "font-size=\"11\" fill=\"#333\">the op raised</text>",
        x, y - 3, x + 32, y + 4, x, y + ROW_H - 3, x + 32, y + ROW_H + 4);
    fputs("</svg>", out);
    return ferror(out) ? -1 : 0;
}

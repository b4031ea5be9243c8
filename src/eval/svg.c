/* svg.c - hand-drawn line and bar charts (see svg.h).
 *
 * Layout: a 720 x 400 canvas, the plot area inset by margins for the tick
 * labels, title on top, legend at the top right inside the plot. Data
 * coordinates map linearly to the plot area; y grows upward, so screen
 * y = bottom - (v - lo) / (hi - lo) * height.
 */
#include "eval/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 720
#define H 400
#define ML 70  /* margins: left, right, top, bottom */
#define MR 20
#define MT 40
#define MB 50

static const char *const k_colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
#define N_COLORS 8

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...) {
    if (o->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (o->n + (size_t)need + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 8192;
        while (cap < o->n + (size_t)need + 1) cap *= 2;
        char *p = realloc(o->s, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->s = p;
        o->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(o->s + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    o->n += (size_t)need;
}

/* text content with &, <, > and quotes escaped */
static void put_text(out *o, const char *t) {
    for (; t && *t; t++) {
        switch (*t) {
        case '&': put(o, "&amp;"); break;
        case '<': put(o, "&lt;"); break;
        case '>': put(o, "&gt;"); break;
        case '"': put(o, "&quot;"); break;
        default:
            if ((unsigned char)*t >= 0x20 || *t == '\t') put(o, "%c", *t); /* control bytes are not XML */
        }
    }
}

static char *finish(out *o) {
    put(o, "</svg>\n");
    if (o->oom) {
        free(o->s);
        return NULL;
    }
    return o->s;
}

/* A round step for about `want` intervals over range: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int want) {
    if (!(range > 0) || !isfinite(range)) return 1;
    double raw = range / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

typedef struct {
    double lo, hi;
} range;

static void header(out *o, const char *title) {
    put(o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
        W, H, W, H, W, H);
    put(o, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">", W / 2);
    put_text(o, title);
    put(o, "</text>\n");
}

static double sx(range x, double v) { return ML + (v - x.lo) / (x.hi - x.lo) * (W - ML - MR); }
static double sy(range y, double v) { return H - MB - (v - y.lo) / (y.hi - y.lo) * (H - MT - MB); }

/* y axis with grid lines and round ticks; widens r to whole steps */
static void y_axis(out *o, range *r, const char *label) {
    double step = nice_step(r->hi - r->lo, 5);
    r->lo = floor(r->lo / step) * step;
    r->hi = ceil(r->hi / step) * step;
    if (r->hi <= r->lo) r->hi = r->lo + step;
    int ticks = 0; /* the cap guards against ranges too wide for doubles to step through */
    for (double v = r->lo; v <= r->hi + step * 1e-6 && ticks++ < 40; v += step) {
        double y = sy(*r, v);
        put(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", ML, y, W - MR, y);
        put(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, y + 4, fabs(v) < step * 1e-9 ? 0 : v);
    }
    put(o, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">", (H - MB + MT) / 2);
    put_text(o, label);
    put(o, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ML, MT, ML, H - MB);
    put(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ML, H - MB, W - MR, H - MB);
}

static void legend(out *o, const octo_svg_series *s, int ns) {
    for (int i = 0; i < ns; i++) {
        int y = MT + 8 + i * 16;
        put(o, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"10\" fill=\"%s\"/>\n", W - MR - 180, y - 9,
            k_colors[i % N_COLORS]);
        put(o, "<text x=\"%d\" y=\"%d\">", W - MR - 162, y);
        put_text(o, s[i].name);
        put(o, "</text>\n");
    }
}

char *octo_svg_lines(const char *title, const char *xlabel, const char *ylabel, const octo_svg_series *s, int ns) {
    out o = {0};
    range x = {INFINITY, -INFINITY}, y = {INFINITY, -INFINITY};
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            double xv = s[i].x ? s[i].x[k] : k, yv = s[i].y[k];
            if (!isfinite(xv) || !isfinite(yv)) continue;
            if (xv < x.lo) x.lo = xv;
            if (xv > x.hi) x.hi = xv;
            if (yv < y.lo) y.lo = yv;
            if (yv > y.hi) y.hi = yv;
        }
    if (x.lo > x.hi) x = (range){0, 1}, y = (range){0, 1}; /* no data: empty axes */
    if (x.hi == x.lo) x.hi = x.lo + 1;
    if (y.hi == y.lo) y.lo -= 0.5, y.hi += 0.5;
    header(&o, title);
    y_axis(&o, &y, ylabel);
    double xs = nice_step(x.hi - x.lo, 6);
    int ticks = 0;
    for (double v = ceil(x.lo / xs) * xs; v <= x.hi + xs * 1e-6 && ticks++ < 40; v += xs)
        put(&o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", sx(x, v), H - MB + 16, v);
    put(&o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 12);
    put_text(&o, xlabel);
    put(&o, "</text>\n");
    for (int i = 0; i < ns; i++) {
        put(&o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", k_colors[i % N_COLORS]);
        for (int k = 0; k < s[i].n; k++) {
            double xv = s[i].x ? s[i].x[k] : k, yv = s[i].y[k];
            if (isfinite(xv) && isfinite(yv)) put(&o, "%.1f,%.1f ", sx(x, xv), sy(y, yv));
        }
        put(&o, "\"/>\n");
        if (s[i].n == 1 && isfinite(s[i].y[0])) /* a single point is no line: mark it */
            put(&o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", sx(x, s[i].x ? s[i].x[0] : 0),
                sy(y, s[i].y[0]), k_colors[i % N_COLORS]);
    }
    legend(&o, s, ns);
    return finish(&o);
}

char *octo_svg_bars(const char *title, const char *ylabel, const char *const *cats, int n_cat,
                    const octo_svg_series *s, int ns, double y_max) {
    out o = {0};
    range y = {0, y_max};
    if (y_max <= 0) {
        y.hi = 0;
        for (int i = 0; i < ns; i++)
            for (int c = 0; c < n_cat && c < s[i].n; c++)
                if (isfinite(s[i].y[c]) && s[i].y[c] > y.hi) y.hi = s[i].y[c];
        if (y.hi <= 0) y.hi = 1;
    }
    header(&o, title);
    y_axis(&o, &y, ylabel);
    double slot = (double)(W - ML - MR) / (n_cat > 0 ? n_cat : 1);
    double bw = slot * 0.8 / (ns > 0 ? ns : 1);
    for (int c = 0; c < n_cat; c++) {
        double x0 = ML + c * slot + slot * 0.1;
        for (int i = 0; i < ns; i++) {
            if (c >= s[i].n || !isfinite(s[i].y[c])) continue;
            double v = s[i].y[c] < y.lo ? y.lo : s[i].y[c] > y.hi ? y.hi : s[i].y[c];
            double top = sy(y, v);
            put(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x0 + i * bw, top,
                bw * 0.95, H - MB - top, k_colors[i % N_COLORS]);
            put_text(&o, s[i].name);
            put(&o, ": %g</title></rect>\n", s[i].y[c]);
        }
        put(&o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", ML + (c + 0.5) * slot, H - MB + 16);
        put_text(&o, cats[c]);
        put(&o, "</text>\n");
    }
    legend(&o, s, ns);
    return finish(&o);
}

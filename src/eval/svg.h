/* svg.h - two small chart kinds as standalone SVG text: lines (loss
 * curves) and grouped bars (scores by plan length).
 *
 * Reports must render anywhere (a Markdown viewer, a browser, a code
 * review) with nothing installed, so charts are drawn by hand: axes with
 * round tick values, a legend, XML-escaped labels. Non-finite values are
 * skipped, never drawn as garbage coordinates.
 */
#ifndef OCTO_EVAL_SVG_H
#define OCTO_EVAL_SVG_H

typedef struct {
    const char *name;  /* legend text */
    const double *x;   /* lines: x values (NULL: 0, 1, 2, ...) */
    const double *y;
    int n;
} octo_svg_series;

/* A line chart of ns series. Returns malloc'd SVG text, or NULL. */
char *octo_svg_lines(const char *title, const char *xlabel, const char *ylabel, const octo_svg_series *s, int ns);

/* Grouped bars: one group of bars per category, one bar per series
 * (series[g].y[c], n == n_cat; NaN: no bar). y_max <= 0: from the data. */
char *octo_svg_bars(const char *title, const char *ylabel, const char *const *cats, int n_cat,
                    const octo_svg_series *s, int ns, double y_max);

#endif

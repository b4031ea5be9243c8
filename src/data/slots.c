/* slots.c - slot values for the generator: an argument value in the form
 * the schema asks for, the same value as a step states it, and one of the
 * many ways a person writes it in a request.
 *
 * Computed kinds (dates, times, durations, percentages, numbers, phone
 * numbers, e-mail addresses, years) are built here so their surface forms
 * are unbounded and always agree with the normalised argument; everything
 * else comes from value lists (values/<kind>.txt, "value | surface | ...").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "data/gen_internal.h"

static const char *k_builtin[] = {"date", "time", "duration", "percent", "int", "number", "phone", "email", "year", NULL};

bool gen_builtin_kind(const char *kind) {
    for (int i = 0; k_builtin[i]; i++)
        if (strcmp(kind, k_builtin[i]) == 0) return true;
    return false;
}

static const char *k_month[] = {"January", "February", "March",     "April",   "May",      "June",
                                "July",    "August",   "September", "October", "November", "December"};
static const char *k_wday[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *k_num[] = {"zero",    "one",     "two",       "three",    "four",     "five",    "six",
                              "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
                              "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen", "twenty"};
static const char *k_tens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

/* 0..99 in words ("forty-five"); bigger numbers in digits. */
static void words(int n, char *out, size_t cap) {
    if (n >= 0 && n <= 20) snprintf(out, cap, "%s", k_num[n]);
    else if (n < 100 && n % 10 == 0) snprintf(out, cap, "%s", k_tens[n / 10]);
    else if (n < 100) snprintf(out, cap, "%s-%s", k_tens[n / 10], k_num[n % 10]);
    else if (n == 100) snprintf(out, cap, "a hundred");
    else snprintf(out, cap, "%d", n);
}

static const char *ordinal(int d) {
    if (d % 100 >= 11 && d % 100 <= 13) return "th";
    return d % 10 == 1 ? "st" : d % 10 == 2 ? "nd" : d % 10 == 3 ? "rd" : "th";
}

static int weekday(int y, int m, int d) { /* Sakamoto */
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3) y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static void make_date(gen_rng *r, gen_value *v) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2025 + gen_below(r, 3), m = 1 + gen_below(r, 12);
    int dim = mdays[m - 1] + (m == 2 && y % 4 == 0);
    int d = 1 + gen_below(r, dim);
    const char *mn = k_month[m - 1], *wd = k_wday[weekday(y, m, d)];
    snprintf(v->step, sizeof v->step, "%04d-%02d-%02d", y, m, d);
    v->arg = cJSON_CreateString(v->step);
    char *q = v->query;
    size_t cap = sizeof v->query;
    switch (gen_below(r, 14)) {
    case 0: snprintf(q, cap, "%04d-%02d-%02d", y, m, d); break;
    case 1: snprintf(q, cap, "%02d/%02d/%04d", m, d, y); break;
    case 2: snprintf(q, cap, "%s %d, %d", mn, d, y); break;
    case 3: snprintf(q, cap, "%s %d%s, %d", mn, d, ordinal(d), y); break;
    case 4: snprintf(q, cap, "%d %s %d", d, mn, y); break;
    case 5: snprintf(q, cap, "%d%s of %s %d", d, ordinal(d), mn, y); break;
    case 6: snprintf(q, cap, "%.3s %d, %d", mn, d, y); break;
    case 7: snprintf(q, cap, "the %d%s of %s, %d", d, ordinal(d), mn, y); break;
    case 8: snprintf(q, cap, "%s, %s %d, %d", wd, mn, d, y); break;
    case 9: snprintf(q, cap, "%d %.3s %d", d, mn, y); break;
    case 10: snprintf(q, cap, "%s %d%s %d", mn, d, ordinal(d), y); break;
    case 11: snprintf(q, cap, "%04d/%02d/%02d", y, m, d); break;
    case 12: snprintf(q, cap, "%.3s %d %s %d", wd, d, mn, y); break;
    default: snprintf(q, cap, "%d.%d.%d", d, m, y); break;
    }
}

static void make_time(gen_rng *r, gen_value *v) {
    static const int mins[] = {0, 0, 0, 15, 30, 30, 45, 5, 10, 20, 40, 50};
    int h = gen_below(r, 24), mi = mins[gen_below(r, 12)];
    if (gen_below(r, 8) == 0) mi = gen_below(r, 60);
    snprintf(v->step, sizeof v->step, "%02d:%02d", h, mi);
    v->arg = cJSON_CreateString(v->step);
    int h12 = h % 12 ? h % 12 : 12;
    const char *ap = h < 12 ? "am" : "pm", *AP = h < 12 ? "a.m." : "p.m.";
    const char *part = h < 12 ? "in the morning" : h < 17 ? "in the afternoon" : h < 21 ? "in the evening" : "at night";
    char hw[32], mw[32];
    words(h12, hw, sizeof hw);
    words(mi, mw, sizeof mw);
    char *q = v->query;
    size_t cap = sizeof v->query;
    int form = gen_below(r, 12);
    if (h == 12 && mi == 0 && form < 3) {
        snprintf(q, cap, "%s", form == 0 ? "noon" : form == 1 ? "12 noon" : "midday");
        return;
    }
    if (h == 0 && mi == 0 && form < 2) {
        snprintf(q, cap, "midnight");
        return;
    }
    switch (form) {
    case 0: snprintf(q, cap, "%d:%02d %s", h12, mi, ap); break;
    case 1: snprintf(q, cap, "%d:%02d%s", h12, mi, ap); break;
    case 2: snprintf(q, cap, "%d:%02d %s", h12, mi, AP); break;
    case 3: snprintf(q, cap, "%02d:%02d", h, mi); break;
    case 4: snprintf(q, cap, "%d.%02d%s", h12, mi, ap); break;
    case 5: snprintf(q, cap, "%d:%02d %s", h12, mi, part); break;
    case 6:
        if (mi == 0) snprintf(q, cap, "%s o'clock %s", hw, part);
        else if (mi < 10) snprintf(q, cap, "%s oh %s %s", hw, mw, ap);
        else snprintf(q, cap, "%s %s %s", hw, mw, ap);
        break;
    case 7:
        if (mi == 0) snprintf(q, cap, "%d%s", h12, ap);
        else snprintf(q, cap, "%d:%02d%s", h12, mi, ap);
        break;
    case 8:
        if (mi == 30) snprintf(q, cap, "half past %s %s", hw, part);
        else if (mi == 15) snprintf(q, cap, "quarter past %s %s", hw, part);
        else if (mi == 45) {
            char nw[32];
            int nh = h + 1, nh12 = nh % 12 ? nh % 12 : 12;
            words(nh12, nw, sizeof nw);
            const char *np = nh % 24 < 12 ? "in the morning" : nh < 17 ? "in the afternoon" : nh < 21 ? "in the evening" : "at night";
            snprintf(q, cap, "quarter to %s %s", nw, np);
        } else snprintf(q, cap, "%d:%02d %s", h12, mi, ap);
        break;
    case 9: snprintf(q, cap, "%d:%02d", h, mi); break;
    case 10: snprintf(q, cap, "%02d%02d hours", h, mi); break;
    default: snprintf(q, cap, "%d:%02d %s", h12, mi, ap); break;
    }
}

/* Durations come from a fixed menu so a small model can learn the whole
 * mapping; the argument is always in seconds. */
static void make_duration(gen_rng *r, gen_value *v) {
    static const int secs[] = {10, 15, 20, 30, 45, 90};
    static const int mins[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 60, 90};
    static const int hours[] = {1, 2, 3, 4};
    int kind = gen_below(r, 10), s;
    char w[32];
    char *q = v->query;
    size_t cap = sizeof v->query;
    if (kind < 2) {
        int n = secs[gen_below(r, 6)];
        s = n;
        words(n, w, sizeof w);
        int f = gen_below(r, 3);
        if (f == 2) snprintf(q, cap, "%s seconds", w);
        else snprintf(q, cap, f == 0 ? "%d seconds" : "%d secs", n);
    } else if (kind < 8) {
        int n = mins[gen_below(r, 20)];
        s = n * 60;
        words(n, w, sizeof w);
        switch (gen_below(r, 6)) {
        case 0: snprintf(q, cap, "%d minutes", n); break;
        case 1: snprintf(q, cap, "%s minutes", w); break;
        case 2: snprintf(q, cap, "%d min", n); break;
        case 3: snprintf(q, cap, "%d mins", n); break;
        case 4: snprintf(q, cap, "%d-minute", n); break;
        default:
            if (n == 30) snprintf(q, cap, "half an hour");
            else if (n == 15) snprintf(q, cap, "a quarter of an hour");
            else if (n == 90) snprintf(q, cap, "an hour and a half");
            else if (n == 60) snprintf(q, cap, "an hour");
            else if (n == 1) snprintf(q, cap, "a minute");
            else snprintf(q, cap, "%d minutes", n);
        }
        if (n == 1 && strstr(q, "minutes")) snprintf(q, cap, "1 minute");
    } else {
        int n = hours[gen_below(r, 4)];
        s = n * 3600;
        words(n, w, sizeof w);
        int f = gen_below(r, 3);
        if (n == 1) snprintf(q, cap, f == 0 ? "1 hour" : f == 1 ? "one hour" : "an hour");
        else if (f == 0) snprintf(q, cap, "%d hours", n);
        else if (f == 1) snprintf(q, cap, "%s hours", w);
        else snprintf(q, cap, "%dh", n);
    }
    snprintf(v->step, sizeof v->step, "%d seconds", s);
    v->arg = cJSON_CreateNumber(s);
}

static double schema_num(const octo_fparam *p, const char *key, double dflt) {
    const cJSON *x = p->schema ? cJSON_GetObjectItemCaseSensitive(p->schema, key) : NULL;
    return cJSON_IsNumber(x) ? x->valuedouble : dflt;
}

static void make_percent(gen_rng *r, gen_value *v) {
    int n = 5 * gen_below(r, 21);
    char w[32];
    words(n, w, sizeof w);
    snprintf(v->step, sizeof v->step, "%d", n);
    v->arg = cJSON_CreateNumber(n);
    switch (gen_below(r, 5)) {
    case 0: snprintf(v->query, sizeof v->query, "%d%%", n); break;
    case 1: snprintf(v->query, sizeof v->query, "%d percent", n); break;
    case 2: snprintf(v->query, sizeof v->query, "%s percent", w); break;
    case 3: snprintf(v->query, sizeof v->query, "%d %%", n); break;
    default: snprintf(v->query, sizeof v->query, "%d", n); break;
    }
}

static void make_int(const octo_fparam *p, gen_rng *r, gen_value *v) {
    int lo = (int)schema_num(p, "minimum", 1), hi = (int)schema_num(p, "maximum", 10);
    if (hi > lo + 1000) hi = lo + 1000;
    if (hi < lo) hi = lo;
    /* small values are far more common in requests */
    int top = hi - lo > 12 && gen_below(r, 4) ? lo + 12 : hi;
    int n = lo + gen_below(r, top - lo + 1);
    snprintf(v->step, sizeof v->step, "%d", n);
    v->arg = cJSON_CreateNumber(n);
    if (n <= 20 && gen_below(r, 2)) words(n, v->query, sizeof v->query);
    else snprintf(v->query, sizeof v->query, "%d", n);
}

static void make_number(gen_rng *r, gen_value *v) {
    static const int round[] = {20, 50, 75, 100, 150, 200, 250, 300, 500, 750, 1000, 1200, 1500, 2000};
    double x;
    if (gen_below(r, 3) == 0) {
        x = 5 + gen_below(r, 400) + (gen_below(r, 2) ? 0.5 : 0.99);
        snprintf(v->step, sizeof v->step, "%.2f", x);
    } else {
        x = round[gen_below(r, 14)];
        snprintf(v->step, sizeof v->step, "%d", (int)x);
    }
    v->arg = cJSON_CreateNumber(x);
    snprintf(v->query, sizeof v->query, "%s", v->step);
}

static void make_phone(gen_rng *r, gen_value *v) {
    int a = 201 + gen_below(r, 780), b = 100 + gen_below(r, 900), c = gen_below(r, 10000);
    char *q = v->query;
    size_t cap = sizeof v->query;
    switch (gen_below(r, 7)) {
    case 0: snprintf(q, cap, "%03d-%03d-%04d", a, b, c); break;
    case 1: snprintf(q, cap, "(%03d) %03d-%04d", a, b, c); break;
    case 2: snprintf(q, cap, "+1 %03d %03d %04d", a, b, c); break;
    case 3: snprintf(q, cap, "%03d%03d%04d", a, b, c); break;
    case 4: snprintf(q, cap, "%03d.%03d.%04d", a, b, c); break;
    case 5: snprintf(q, cap, "+1-%03d-%03d-%04d", a, b, c); break;
    default: snprintf(q, cap, "+44 7%03d %06d", b, c * 10 + gen_below(r, 10)); break;
    }
    /* phone numbers are arguments as written (the schema says so) */
    snprintf(v->step, sizeof v->step, "%s", q);
    v->arg = cJSON_CreateString(q);
}

static void make_email(const octo_phrasebook *pb, gen_rng *r, gen_value *v) {
    static const char *dom[] = {"example.com", "mail.com", "company.org", "work.net", "outlook.com", "gmail.com", "uni.edu"};
    const pb_kind *k = pb_find_kind(pb, "person");
    char name[128] = "alex.morgan";
    if (k) {
        const char *t = k->lines.v[gen_below(r, k->lines.n)].text;
        size_t j = 0;
        for (const char *s = t; *s && *s != '|' && j + 1 < sizeof name; s++) {
            char ch = (char)tolower((unsigned char)*s);
            if (ch == ' ') ch = gen_below(r, 3) ? '.' : '_';
            if (isalnum((unsigned char)ch) || ch == '.' || ch == '_') name[j++] = ch;
        }
        name[j] = 0;
        while (j && (name[j - 1] == '.' || name[j - 1] == '_')) name[--j] = 0;
    }
    snprintf(v->query, sizeof v->query, "%s@%s", name, dom[gen_below(r, 7)]);
    snprintf(v->step, sizeof v->step, "%s", v->query);
    v->arg = cJSON_CreateString(v->query);
}

static void make_year(gen_rng *r, gen_value *v) {
    int y = 2015 + gen_below(r, 12);
    snprintf(v->step, sizeof v->step, "%d", y);
    v->arg = cJSON_CreateString(v->step);
    snprintf(v->query, sizeof v->query, "%d", y);
}

/* Enum values: "say" surfaces when given, else the value with _ as space. */
static void make_enum(const pb_func *f, int p, gen_rng *r, gen_value *v) {
    const octo_fparam *fp = &f->fn->params[p];
    const char *val = fp->enum_values[gen_below(r, fp->n_enum)];
    v->arg = cJSON_CreateString(val);
    snprintf(v->step, sizeof v->step, "%s", val);
    for (char *c = v->step; *c; c++)
        if (*c == '_') *c = ' ';
    snprintf(v->query, sizeof v->query, "%s", v->step);
    for (int s = 0; s < f->n_says; s++)
        if (strcmp(f->says[s].param, fp->name) == 0 && strcmp(f->says[s].value, val) == 0 && f->says[s].surfaces.n)
            snprintf(v->query, sizeof v->query, "%s",
                     f->says[s].surfaces.v[gen_below(r, f->says[s].surfaces.n)].text);
}

/* A line of a value list: "value | surface | surface" (no surfaces: the
 * value is its own surface). */
static int from_list(const pb_kind *k, const octo_fparam *fp, octo_holdout part, gen_rng *r, gen_value *v) {
    const pb_line *ln = pb_pick(&k->lines, part, r);
    if (!ln) return octo_fail("value list %s is empty", k->name);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", ln->text);
    char *fields[32];
    int n = 0;
    char *s = buf;
    while (n < 32) {
        char *bar = strchr(s, '|');
        if (bar) *bar = 0;
        char *t = s;
        while (*t == ' ') t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ') t[--len] = 0;
        fields[n++] = t;
        if (!bar) break;
        s = bar + 1;
    }
    snprintf(v->step, sizeof v->step, "%s", fields[0]);
    snprintf(v->query, sizeof v->query, "%s", n > 1 ? fields[1 + gen_below(r, n - 1)] : fields[0]);
    if (fp->type == OCTO_JT_INTEGER || fp->type == OCTO_JT_NUMBER) {
        char *end;
        double x = strtod(fields[0], &end);
        if (end == fields[0] || *end) return octo_fail("values/%s.txt: \"%s\" is not a number (parameter %s)", k->name, fields[0], fp->name);
        v->arg = cJSON_CreateNumber(fp->type == OCTO_JT_INTEGER ? (double)(long long)x : x);
    } else {
        v->arg = cJSON_CreateString(fields[0]);
    }
    return 0;
}

/* Function words stay as they are in an opened value, so "the housing
 * market" becomes "the lantern orchard", not three random words. */
static bool keep_word(const char *w, size_t n) {
    static const char *k[] = {"the", "a", "an", "of", "and", "to", "for", "with", "my", "in", "on", "at",
                              "by", "from", "our", "your", "&", "-", NULL};
    for (int i = 0; k[i]; i++)
        if (strlen(k[i]) == n && strncasecmp(w, k[i], n) == 0) return true;
    return false;
}

/* An open value: the list value's shape (word count, capitals, function
 * words, digits, a file extension) with every other word replaced by a
 * random filler word. The result is new text the model has never seen, so
 * the only way to get it right is to copy it from the request. */
static void open_value(const pb_list *words, gen_rng *r, gen_value *v) {
    char out[sizeof v->step];
    size_t o = 0;
    const char *s = v->step;
    while (*s && o + 1 < sizeof out) {
        if (*s == ' ') {
            out[o++] = *s++;
            continue;
        }
        size_t n = strcspn(s, " ");
        size_t alpha = 0;
        while (alpha < n && (isalpha((unsigned char)s[alpha]) || s[alpha] == '\'')) alpha++;
        /* letters up to the end, or up to a ".ext" tail: replace them */
        bool ext = alpha < n && s[alpha] == '.' && alpha > 0;
        if ((alpha == n || ext) && alpha > 0 && !keep_word(s, n)) {
            const char *w = words->v[gen_below(r, words->n)].text;
            bool cap = isupper((unsigned char)s[0]), all = cap && alpha > 1 && isupper((unsigned char)s[1]);
            for (size_t i = 0; w[i] && o + 1 < sizeof out; i++)
                out[o++] = (char)(all || (cap && i == 0) ? toupper((unsigned char)w[i]) : w[i]);
            for (size_t i = alpha; i < n && o + 1 < sizeof out; i++) out[o++] = s[i]; /* ".ext" */
        } else {
            for (size_t i = 0; i < n && o + 1 < sizeof out; i++) out[o++] = s[i];
        }
        s += n;
    }
    out[o] = 0;
    snprintf(v->step, sizeof v->step, "%s", out);
    snprintf(v->query, sizeof v->query, "%s", out);
    cJSON_Delete(v->arg);
    v->arg = cJSON_CreateString(out);
}

int gen_slot_value(const octo_phrasebook *pb, const pb_func *f, int p, octo_holdout part, double open_values,
                   gen_rng *r, gen_value *out) {
    const octo_fparam *fp = &f->fn->params[p];
    memset(out, 0, sizeof *out);
    char kind[128] = "";
    if (f->kind[p]) {
        /* "a|b": pick one of the alternatives */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", f->kind[p]);
        char *alts[16];
        int n = 0;
        for (char *s = buf; n < 16;) {
            char *bar = strchr(s, '|');
            if (bar) *bar = 0;
            while (*s == ' ') s++;
            size_t len = strlen(s);
            while (len && s[len - 1] == ' ') s[--len] = 0;
            alts[n++] = s;
            if (!bar) break;
            s = bar + 1;
        }
        snprintf(kind, sizeof kind, "%s", alts[gen_below(r, n)]);
    }
    if (!kind[0]) {
        if (fp->n_enum) make_enum(f, p, r, out);
        else if (fp->type == OCTO_JT_INTEGER) make_int(fp, r, out);
        else if (fp->type == OCTO_JT_NUMBER) make_number(r, out);
        else if (fp->type == OCTO_JT_BOOLEAN) {
            bool b = gen_below(r, 2);
            out->arg = cJSON_CreateBool(b);
            snprintf(out->step, sizeof out->step, "%s", b ? "true" : "false");
            snprintf(out->query, sizeof out->query, "%s", out->step);
        } else return octo_fail("%s.%s: no value kind", f->fn->name, fp->name);
    } else if (strcmp(kind, "date") == 0) make_date(r, out);
    else if (strcmp(kind, "time") == 0) make_time(r, out);
    else if (strcmp(kind, "duration") == 0) make_duration(r, out);
    else if (strcmp(kind, "percent") == 0) make_percent(r, out);
    else if (strcmp(kind, "int") == 0) make_int(fp, r, out);
    else if (strcmp(kind, "number") == 0) make_number(r, out);
    else if (strcmp(kind, "phone") == 0) make_phone(r, out);
    else if (strcmp(kind, "email") == 0) make_email(pb, r, out);
    else if (strcmp(kind, "year") == 0) make_year(r, out);
    else {
        const pb_kind *k = pb_find_kind(pb, kind);
        if (!k) return octo_fail("%s.%s: no value list %s", f->fn->name, fp->name, kind);
        if (from_list(k, fp, part, r, out)) return -1;
        if (open_values > 0 && pb->words.n && fp->type == OCTO_JT_STRING && out->arg && gen_unit(r) < open_values)
            open_value(&pb->words, r, out);
    }
    if (!out->arg) return octo_fail("out of memory");
    /* a string argument is the step's text of the value */
    return 0;
}

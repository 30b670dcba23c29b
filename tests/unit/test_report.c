/* test_report.c - the report layer (src/report/): HTML escaping, base64 against the RFC 4648
 * vectors, embedded PNG pictures decoded back, reliability bins and ECE on a hand-computed
 * case (and equal to tta_metrics_compute's ECE), nice ticks on linear and log axes, and the
 * shape of the SVG written (ids, one tooltip group per point, escaped labels, balanced tags).
 * The XML well-formedness of whole reports is checked by tests/cli/test_report.sh (xmllint). */
#include <stdint.h>

#include "report/html.h"
#include "report/reliability.h"
#include "report/svg_plot.h"
#include "test.h"
#include "tta/classify.h"
#include "tta/image.h"

/* what fn wrote to a FILE, as a malloc'd string */
typedef struct mem {
    char *buf;
    size_t size;
    FILE *f;
} mem;

static void mem_open(mem *m) {
    m->buf = NULL, m->size = 0;
    m->f = open_memstream(&m->buf, &m->size);
}
static char *mem_close(mem *m) {
    fclose(m->f);
    return m->buf;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

TEST(html_escape) {
    mem m;
    mem_open(&m);
    tta_html_escape(m.f, "a<b & \"c\" 'd'> plain");
    char *s = mem_close(&m);
    CHECK(strcmp(s, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt; plain") == 0);
    free(s);
    mem_open(&m);
    tta_html_cell(m.f, "%s=%d", "x<y", 3);
    tta_html_cell_text(m.f, "%s", "&");
    s = mem_close(&m);
    CHECK(strcmp(s, "<td>x&lt;y=3</td><td class=\"t\">&amp;</td>") == 0);
    free(s);
}

TEST(base64_rfc4648) {
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(in[i]);
        char out[32];
        CHECK_EQ_INT(tta_base64_size(n), strlen(want[i]) + 1);
        CHECK_EQ_INT(tta_base64_encode((const unsigned char *)in[i], n, out), strlen(want[i]));
        if (strcmp(out, want[i]))
            fprintf(stderr, "  base64(\"%s\") = \"%s\", want \"%s\"\n", in[i], out, want[i]);
        CHECK(strcmp(out, want[i]) == 0);
    }
    const unsigned char bin[4] = {0xff, 0xfe, 0x00, 0x3e};
    char out[16];
    tta_base64_encode(bin, 4, out);
    CHECK(strcmp(out, "//4APg==") == 0);
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* decodes base64 up to the first character that is not one (a test-side reading of the URI) */
static size_t b64_decode(const char *s, unsigned char *out) {
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; b64_value(*s) >= 0; s++) {
        acc = acc << 6 | (unsigned)b64_value(*s);
        bits += 6;
        if (bits >= 8) bits -= 8, out[n++] = (unsigned char)(acc >> bits & 0xff);
    }
    return n;
}

TEST(html_png_round_trip) {
    uint8_t px[2 * 3] = {0, 50, 100, 150, 200, 250}; /* 2 rows x 3 columns, gray */
    tta_image img = {0};
    tta_image_wrap(&img, 2, 3, 1, TTA_DTYPE_UINT8, px);
    mem m;
    mem_open(&m);
    CHECK(tta_html_png(m.f, &img, 96, "a \"gray\" picture") == TTA_OK);
    char *s = mem_close(&m);
    /* 3 columns -> the smallest whole factor reaching 96 is 32: 96 x 64 */
    CHECK_STR_CONTAINS(s, "width=\"96\" height=\"64\"");
    CHECK_STR_CONTAINS(s, "alt=\"a &quot;gray&quot; picture\"/>");
    const char *uri = strstr(s, "data:image/png;base64,");
    CHECK(uri != NULL);
    if (uri) {
        unsigned char *png = malloc(strlen(uri));
        size_t n = b64_decode(uri + strlen("data:image/png;base64,"), png);
        tta_image back = {0};
        CHECK(tta_image_decode(&back, png, n, "embedded") == TTA_OK);
        CHECK_EQ_INT(back.height, 64);
        CHECK_EQ_INT(back.width, 96);
        CHECK_EQ_INT(back.channels, 1);
        const uint8_t *b = back.data;
        if (back.data && back.height == 64 && back.width == 96) {
            CHECK_EQ_INT(b[0], 0);
            CHECK_EQ_INT(b[31], 0);
            CHECK_EQ_INT(b[32], 50);
            CHECK_EQ_INT(b[95], 100);
            CHECK_EQ_INT(b[(size_t)63 * 96 + 95], 250);
            CHECK_EQ_INT(b[(size_t)32 * 96], 150);
        }
        tta_image_destroy(&back);
        free(png);
    }
    free(s);
}

TEST(reliability_hand_computed) {
    /* 5 predictions, 3 classes, 4 bins of width 0.25:
     *   conf 0.9 right, 0.8 wrong      -> bin 3: n 2, confidence 0.85, accuracy 0.5
     *   conf 0.6 right, 0.55 right     -> bin 2: n 2, confidence 0.575, accuracy 1
     *   conf 0.4 wrong                 -> bin 1: n 1, confidence 0.4, accuracy 0
     * ECE = 2/5 x 0.35 + 2/5 x 0.425 + 1/5 x 0.4 = 0.39 */
    const float p[5 * 3] = {0.9f, 0.1f, 0, 0.8f, 0.2f, 0, 0.4f, 0.6f, 0, 0.55f, 0.45f, 0, 0.4f, 0.3f, 0.3f};
    const int y[5] = {0, 1, 1, 0, 2};
    tta_reliability r;
    tta_reliability_compute(p, y, 5, 3, 4, &r);
    CHECK_EQ_INT(r.n_bins, 4);
    CHECK_EQ_INT(r.count[0], 0);
    CHECK_EQ_INT(r.count[1], 1);
    CHECK_EQ_INT(r.count[2], 2);
    CHECK_EQ_INT(r.count[3], 2);
    CHECK_NEAR(r.confidence[3], 0.85, 1e-6);
    CHECK_NEAR(r.accuracy[3], 0.5, 1e-12);
    CHECK_NEAR(r.confidence[2], 0.575, 1e-6);
    CHECK_NEAR(r.accuracy[2], 1.0, 1e-12);
    CHECK_NEAR(r.confidence[1], 0.4, 1e-6);
    CHECK_NEAR(r.accuracy[1], 0.0, 1e-12);
    CHECK_NEAR(r.ece, 0.39, 1e-6);
    /* a confidence of exactly 1 goes to the last bin */
    const float one[2] = {1.0f, 0.0f};
    const int y0 = 0;
    tta_reliability_compute(one, &y0, 1, 2, 10, &r);
    CHECK_EQ_INT(r.count[9], 1);
    CHECK_NEAR(r.ece, 0.0, 1e-12);
}

TEST(reliability_matches_metrics_ece) {
    enum { N = 300, K = 4 };
    static float p[N * K];
    static int y[N];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        double sum = 0;
        for (int c = 0; c < K; c++) {
            s = s * 1664525u + 1013904223u;
            p[i * K + c] = (float)((s >> 8) % 1000 + 1);
            sum += p[i * K + c];
        }
        for (int c = 0; c < K; c++)
            p[i * K + c] = (float)(p[i * K + c] / sum);
        y[i] = (int)((s >> 20) % K);
    }
    tta_metrics m;
    tta_metrics_compute(p, y, N, K, &m);
    tta_reliability r;
    tta_reliability_compute(p, y, N, K, 15, &r);
    CHECK_NEAR(r.ece, m.ece, 1e-12);
    int total = 0;
    for (int b = 0; b < r.n_bins; b++)
        total += r.count[b];
    CHECK_EQ_INT(total, N);
}

TEST(nice_ticks) {
    double t[64], step;
    int n = tta_nice_ticks(0, 1, 6, 0, t, 64, &step);
    CHECK_EQ_INT(n, 6);
    CHECK_NEAR(step, 0.2, 1e-15);
    CHECK(t[0] == 0.0 && t[1] == 0.2 && t[3] == 0.6 && t[5] == 1.0); /* exact: k x 2 / 10 */
    n = tta_nice_ticks(0.8012, 0.8232, 6, 0, t, 64, &step);
    CHECK_EQ_INT(n, 4);
    CHECK_NEAR(step, 0.005, 1e-15);
    CHECK(t[0] == 0.805 && t[3] == 0.82);
    n = tta_nice_ticks(-0.0021, 0.0057, 5, 0, t, 64, &step);
    CHECK_EQ_INT(n, 4);
    CHECK_NEAR(step, 0.002, 1e-15);
    CHECK(t[0] == -0.002 && t[1] == 0.0 && t[3] == 0.004);
    n = tta_nice_ticks(0.5, 4.5, 9, 1, t, 64, &step); /* whole numbers only */
    CHECK_EQ_INT(n, 4);
    CHECK(step == 1 && t[0] == 1 && t[3] == 4);
    n = tta_nice_ticks(0, 1000, 6, 0, t, 64, &step);
    CHECK_EQ_INT(n, 6);
    CHECK(step == 200 && t[5] == 1000);
    CHECK_EQ_INT(tta_tick_decimals(0.005), 3);
    CHECK_EQ_INT(tta_tick_decimals(0.2), 1);
    CHECK_EQ_INT(tta_tick_decimals(5), 0);
    CHECK_EQ_INT(tta_tick_decimals(200), 0);
    n = tta_log_ticks(0.3, 30, t, 64);
    CHECK_EQ_INT(n, 6);
    CHECK(n == 6 && t[0] == 0.5 && t[1] == 1 && t[2] == 2 && t[3] == 5 && t[4] == 10 && t[5] == 20);
    n = tta_log_ticks(1, 1e5, t, 64); /* five decades: powers of ten only */
    CHECK_EQ_INT(n, 6);
    CHECK(n == 6 && t[0] == 1 && t[5] == 1e5);
}

TEST(plot_svg_shape) {
    const double x[3] = {1, 2, 3}, y[3] = {0.8, 0.82, 0.825}, lo[3] = {0.79, 0.81, 0.815},
                 hi[3] = {0.81, 0.83, 0.835};
    const char *titles[3] = {"one", "two <2>", "three & more"};
    tta_plot_series s[2] = {{.name = "test <accuracy>",
                             .n = 3,
                             .x = x,
                             .y = y,
                             .lo = lo,
                             .hi = hi,
                             .titles = titles,
                             .line_width = 2,
                             .marker = TTA_MARK_CIRCLE},
                            {.name = "no markers", .n = 3, .x = x, .y = lo, .line_width = 1, .dashed = 1}};
    tta_plot p =
        tta_plot_default("plot-test", "A & B", "views (passes per image)", "accuracy (share of images)");
    p.integer_x = 1;
    mem m;
    mem_open(&m);
    tta_plot_write(m.f, &p, s, 2);
    char *svg = mem_close(&m);
    CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"plot-test\"", 66) == 0);
    CHECK(strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
    CHECK_EQ_INT(count(svg, "<g><title>"), 3); /* one tooltip group per point of the first series */
    CHECK_STR_CONTAINS(svg, "two &lt;2&gt;");
    CHECK_STR_CONTAINS(svg, "three &amp; more");
    CHECK_STR_CONTAINS(svg, ">A &amp; B</text>");
    CHECK_STR_CONTAINS(svg, "test &lt;accuracy&gt;");
    CHECK_STR_CONTAINS(svg, "views (passes per image)");
    CHECK_EQ_INT(count(svg, "<text"), count(svg, "</text>"));
    CHECK_EQ_INT(count(svg, "<g"), count(svg, "</g>"));
    CHECK_EQ_INT(count(svg, "stroke-dasharray"), 2); /* the dashed series and its legend line */
    CHECK_EQ_INT(count(svg, "<circle"), 4);          /* 3 points + the legend's marker */
    CHECK(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    free(svg);

    /* bars: a label per bar, intervals, the reference line */
    const char *labels[2] = {"identity", "hflip > shift(3, 0, wrap)"};
    const double v[2] = {0.01, -0.004}, blo[2] = {0.0, -0.01}, bhi[2] = {0.02, 0.001};
    tta_bars b = tta_bars_default("plot-bars", "gains", "gain (accuracy points)");
    b.n = 2, b.labels = labels, b.values = v, b.lo = blo, b.hi = bhi, b.has_ref = 1, b.ref = 0,
    b.ref_label = "none";
    mem_open(&m);
    tta_bars_write(m.f, &b);
    svg = mem_close(&m);
    CHECK_STR_CONTAINS(svg, "id=\"plot-bars\"");
    CHECK_EQ_INT(count(svg, "<g class=\"bar\">"), 2);
    CHECK_STR_CONTAINS(svg, "hflip &gt; shift(3, 0, wrap)");
    CHECK_STR_CONTAINS(svg, ">-0.0040</text>");
    CHECK_EQ_INT(count(svg, "<text"), count(svg, "</text>"));
    free(svg);
}

TEST(html_page_shape) {
    mem m;
    mem_open(&m);
    tta_html_begin(m.f, "tta eval <report>", "data & model");
    const char *h[2] = {"policy", "accuracy"};
    tta_html_table_begin(m.f, "table-policies", "policies", 2, h);
    tta_html_row_begin(m.f);
    tta_html_cell_text(m.f, "%s", "flip");
    tta_html_cell(m.f, "%.4f", 0.8123);
    tta_html_row_end(m.f);
    tta_html_table_end(m.f);
    tta_html_end(m.f);
    char *s = mem_close(&m);
    CHECK(strncmp(s, "<!DOCTYPE html>\n<html", 21) == 0);
    CHECK_STR_CONTAINS(s, "<title>tta eval &lt;report&gt;</title>");
    CHECK_STR_CONTAINS(s, "<td class=\"t\">flip</td><td>0.8123</td>");
    CHECK_STR_CONTAINS(s, "id=\"report-status\"");
    CHECK(strstr(s, "http") == NULL); /* nothing fetched, no links out */
    /* the inline script stays XML-safe: no '<' or '&' between <script> and </script> */
    const char *a = strstr(s, "<script>"), *b = strstr(s, "</script>");
    CHECK(a && b && b > a);
    for (const char *c = a + 8; a && b && c < b; c++)
        CHECK(*c != '<' && *c != '&');
    CHECK(strcmp(s + strlen(s) - 8, "</html>\n") == 0);
    free(s);
}

/* test_policy.c - the policy language: presets, separators and comments, canonical printing
 * that parses back to the same policy, and malformed text whose error names the line and
 * column of the problem. */
#include "test.h"
#include "tta/augment.h"

static int parse_ok(tta_policy *pol, const char *text) {
    tta_status st = tta_policy_parse(pol, text, NULL);
    if (st != TTA_OK) fprintf(stderr, "  parse of \"%s\" failed: %s\n", text, tta_last_error());
    return st == TTA_OK;
}

static void view_text(const tta_policy *pol, int v, char *buf, size_t size) {
    tta_view_format(&pol->views[v], buf, size);
}

/* parse -> print -> parse gives the same policy, and printing is a fixed point */
static void check_round_trip(const char *text) {
    tta_policy a, b;
    char ta[8192], tb[8192];
    if (!parse_ok(&a, text)) {
        test_failures_in_case++;
        tta_policy_destroy(&a);
        return;
    }
    size_t n = tta_policy_format(&a, ta, sizeof ta);
    CHECK(n < sizeof ta && n == strlen(ta));
    CHECK(parse_ok(&b, ta));
    CHECK_EQ_INT(b.n_views, a.n_views);
    for (int v = 0; v < a.n_views && v < b.n_views; v++)
        CHECK(tta_view_equal(&a.views[v], &b.views[v]));
    for (int v = 0; v < a.n_views && v < b.n_views; v++) {
        CHECK_EQ_INT(a.views[v].n, b.views[v].n);
        for (int i = 0; i < a.views[v].n; i++) {
            const tta_transform *x = &a.views[v].t[i], *y = &b.views[v].t[i];
            CHECK(x->op == y->op && x->p[0] == y->p[0] && x->p[1] == y->p[1] && x->relative == y->relative &&
                  x->anchor == y->anchor && x->interp == y->interp && x->border == y->border &&
                  x->fill == y->fill);
        }
    }
    tta_policy_format(&b, tb, sizeof tb);
    CHECK(strcmp(ta, tb) == 0);
    tta_policy_destroy(&a);
    tta_policy_destroy(&b);
}

/* parsing fails with a message containing "line L, column C" and `what` */
static void check_error(const char *text, int line, int col, const char *what) {
    tta_policy pol;
    tta_status st = tta_policy_parse(&pol, text, NULL);
    CHECK_EQ_INT(st, TTA_ERR_PARSE);
    char where[64];
    snprintf(where, sizeof where, "line %d, column %d:", line, col);
    CHECK_STR_CONTAINS(tta_last_error(), where);
    CHECK_STR_CONTAINS(tta_last_error(), what);
    CHECK_EQ_INT(pol.n_views, 1); /* left as the identity-only policy */
    tta_policy_destroy(&pol);
}

/* The public names and one-transform text the search layer uses (no private header). */
TEST(transform_names_and_text_are_public) {
    CHECK(!strcmp(tta_op_name(TTA_OP_SHIFT), "shift"));
    CHECK(!strcmp(tta_op_name(TTA_OP_ROTATE), "rotate"));
    CHECK(!strcmp(tta_op_name((tta_op)9999), "?"));
    CHECK(!strcmp(tta_border_name(TTA_BORDER_WRAP), "wrap"));
    CHECK(!strcmp(tta_interp_name(TTA_INTERP_BILINEAR), "bilinear"));
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip > shift(0, 3, constant)", NULL) == TTA_OK);
    char buf[64], tiny[4];
    CHECK_EQ_INT(pol.views[1].n, 2);
    CHECK_EQ_INT((int)tta_transform_format(&pol.views[1].t[1], buf, sizeof buf), (int)strlen("shift(0, 3, constant)"));
    CHECK(!strcmp(buf, "shift(0, 3, constant)"));
    CHECK_EQ_INT((int)tta_transform_format(&pol.views[1].t[1], tiny, sizeof tiny), 21); /* snprintf-like */
    CHECK(!strcmp(tiny, "shi"));
    tta_policy_destroy(&pol);
}

TEST(presets_have_the_documented_views) {
    static const struct {
        const char *name;
        int n;
    } want[] = {{"seed", 8}, {"flip", 2}, {"d4", 8}, {"five-crop", 6}, {"ten-crop", 11}, {"multiscale", 3}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        tta_policy pol;
        CHECK(parse_ok(&pol, want[i].name));
        CHECK_EQ_INT(pol.n_views, want[i].n);
        CHECK_EQ_INT(pol.views[0].n, 0); /* identity first */
        tta_policy_destroy(&pol);
        CHECK(tta_policy_preset(want[i].name) != NULL);
        check_round_trip(want[i].name);
    }
    CHECK(tta_policy_preset("nope") == NULL);
    int n = 0;
    while (tta_policy_preset_name(n))
        n++;
    CHECK_EQ_INT(n, 6);
}

TEST(seed_is_the_reference_experiment) {
    tta_policy pol;
    CHECK(parse_ok(&pol, "seed"));
    const char *want[] = {"identity",
                          "hflip",
                          "shift(3, 0, wrap)",
                          "shift(-3, 0, wrap)",
                          "shift(0, 3, wrap)",
                          "shift(0, -3, wrap)",
                          "rotate(10, bilinear, edge)",
                          "rotate(-10, bilinear, edge)"};
    for (int v = 0; v < 8 && v < pol.n_views; v++) {
        char t[256];
        view_text(&pol, v, t, sizeof t);
        CHECK(strcmp(t, want[v]) == 0);
        if (strcmp(t, want[v])) fprintf(stderr, "  view %d: %s, expected %s\n", v, t, want[v]);
    }
    tta_policy_destroy(&pol);
}

TEST(separators_comments_and_whitespace) {
    tta_policy pol;
    const char *text = "# a comment line\n"
                       "hflip   # flip\n"
                       "\n"
                       "  shift( 3 ,0 , wrap ) ; shift(0,3)\t\n"
                       "hflip>shift(0,-3);;\r\n"
                       "rotate(10, bilinear, edge)";
    CHECK(parse_ok(&pol, text));
    CHECK_EQ_INT(pol.n_views, 6);
    char t[256];
    view_text(&pol, 1, t, sizeof t);
    CHECK(!strcmp(t, "hflip"));
    view_text(&pol, 2, t, sizeof t);
    CHECK(!strcmp(t, "shift(3, 0, wrap)"));
    view_text(&pol, 3, t, sizeof t);
    CHECK(!strcmp(t, "shift(0, 3, wrap)")); /* wrap is the default border of shift */
    view_text(&pol, 4, t, sizeof t);
    CHECK(!strcmp(t, "hflip > shift(0, -3, wrap)"));
    CHECK_EQ_INT(pol.views[4].n, 2);
    CHECK_EQ_INT(pol.views[4].t[0].op, TTA_OP_HFLIP);
    CHECK_EQ_INT(pol.views[4].t[1].op, TTA_OP_SHIFT);
    CHECK_EQ_INT(pol.views[4].t[1].p[1], -3);
    tta_policy_destroy(&pol);
    CHECK(parse_ok(&pol, ""));
    CHECK_EQ_INT(pol.n_views, 1);
    tta_policy_destroy(&pol);
    CHECK(parse_ok(&pol, "  # nothing but a comment\n\n;"));
    CHECK_EQ_INT(pol.n_views, 1);
    tta_policy_destroy(&pol);
}

TEST(identity_is_always_first) {
    tta_policy pol;
    CHECK(parse_ok(&pol, "hflip; identity; vflip"));
    CHECK_EQ_INT(pol.n_views, 3);
    CHECK_EQ_INT(pol.views[0].n, 0);
    tta_policy_destroy(&pol);
    CHECK(parse_ok(&pol, "vflip"));
    CHECK_EQ_INT(pol.n_views, 2);
    CHECK_EQ_INT(pol.views[0].n, 0);
    CHECK_EQ_INT(pol.views[1].t[0].op, TTA_OP_VFLIP);
    tta_policy_destroy(&pol);
    /* identity inside a chain changes nothing */
    CHECK(parse_ok(&pol, "identity > hflip > identity"));
    CHECK_EQ_INT(pol.n_views, 2);
    CHECK_EQ_INT(pol.views[1].n, 1);
    tta_policy_destroy(&pol);
}

TEST(every_transform_round_trips) {
    check_round_trip("identity; hflip; vflip; transpose; rot90; rot90(2); rot90(-1)");
    tta_policy pol;
    CHECK(parse_ok(&pol, "rot90(7); rot90(-2); rot90(4)"));
    CHECK_EQ_INT(pol.n_views, 4);
    CHECK_NEAR(pol.views[1].t[0].p[0], 3, 0);
    CHECK_NEAR(pol.views[2].t[0].p[0], 2, 0);
    CHECK_NEAR(pol.views[3].t[0].p[0], 0, 0);
    tta_policy_destroy(&pol);
    /* quarter turns beyond any integer type: reduced on the double, no undefined conversion
       (fuzz finding F4). 1e300 is a multiple of 4; -(2^53 - 3) is -1 modulo 4, so 3 turns. */
    CHECK(parse_ok(&pol, "hflip > rot90(1e300); rot90(-9007199254740989)"));
    CHECK_EQ_INT(pol.n_views, 3);
    CHECK_NEAR(pol.views[1].t[1].p[0], 0, 0);
    CHECK_NEAR(pol.views[2].t[0].p[0], 3, 0);
    tta_policy_destroy(&pol);
    check_error("rot90(1e999)", 1, 7, "");
    check_round_trip("shift(1.5, -2.25); shift(3, 0, constant); shift(3, 0, constant, fill=0.5); "
                     "shift(0, 4, edge); shift(-2, 0, reflect); shift(1.5, 0, nearest, wrap)");
    check_round_trip("rotate(10); rotate(-7.5, nearest); rotate(30, bicubic, reflect); "
                     "rotate(45, bilinear, constant, fill=1); rotate(1e-3, wrap)");
    check_round_trip("scale(1.1); scale(0.9, edge); scale(0.75, bicubic, constant, fill=0.25)");
    check_round_trip(
        "resize(224); resize(224, 160); resize(50%); resize(80%, 120%, nearest); resize(9, 7, bicubic)");
    check_round_trip("crop(center, 28); crop(tl, 24, 20); crop(br, 87.5%); crop(tr, 50%, 75%); crop(bl, 1)");
    check_round_trip("letterbox(640); letterbox(320, 480, fill=0.447); letterbox(64, 32, bicubic, fill=0)");
    check_round_trip(
        "brightness(1.2); contrast(0.8); gamma(0.5); saturation(0); brightness(0.1) > gamma(2.2)");
    check_round_trip("hflip > rotate(10) > scale(1.2) > crop(center, 90%) > resize(32) > brightness(1.1)");
    check_round_trip("seed\nfive-crop"); /* presets that overlap only in the identity */
}

TEST(numbers_print_exactly) {
    tta_policy a;
    CHECK(parse_ok(&a, "rotate(0.1); shift(0.30000000000000004, 1e-7); scale(1.0000001)"));
    char text[512];
    tta_policy_format(&a, text, sizeof text);
    CHECK_STR_CONTAINS(text, "rotate(0.1, bilinear, edge)");
    CHECK_STR_CONTAINS(text, "shift(0.30000000000000004, 1e-07, wrap)");
    CHECK_STR_CONTAINS(text, "scale(1.0000001, bilinear, constant)");
    tta_policy_destroy(&a);
    check_round_trip("rotate(0.1); shift(0.30000000000000004, 1e-7); scale(1.0000001)");
}

TEST(defaults_are_filled_in) {
    tta_policy pol;
    CHECK(parse_ok(&pol, "rotate(5); scale(2); shift(1, 1); letterbox(8, 9); crop(center, 3)"));
    const tta_transform *t = &pol.views[1].t[0];
    CHECK_EQ_INT(t->interp, TTA_INTERP_BILINEAR);
    CHECK_EQ_INT(t->border, TTA_BORDER_EDGE);
    t = &pol.views[2].t[0];
    CHECK_EQ_INT(t->border, TTA_BORDER_CONSTANT);
    CHECK_NEAR(t->fill, 0, 0);
    t = &pol.views[3].t[0];
    CHECK_EQ_INT(t->border, TTA_BORDER_WRAP);
    t = &pol.views[4].t[0];
    CHECK_NEAR(t->fill, 0.5, 0);
    CHECK_NEAR(t->p[0], 8, 0);
    CHECK_NEAR(t->p[1], 9, 0);
    t = &pol.views[5].t[0];
    CHECK_EQ_INT(t->anchor, TTA_ANCHOR_CENTER);
    CHECK_NEAR(t->p[1], 3, 0);
    tta_policy_destroy(&pol);
    /* a fill for a border that does not use it is an error, not silently kept */
    check_error("shift(1, 1, edge, fill=0.5)", 1, 1, "fill= only applies");
}

TEST(errors_name_line_and_column) {
    check_error("hflp", 1, 1, "unknown transform 'hflp'");
    check_error("hflip\n  vflip\n   rotat(3)", 3, 4, "unknown transform 'rotat'");
    check_error("hflip; shift(3)", 1, 8, "shift needs 2 numbers, got 1");
    check_error("shift(1, 2, 3)", 1, 13, "too many numbers");
    check_error("rotate(10, bilinear, edge, nearest)", 1, 28, "interpolation is given twice");
    check_error("rotate(10, sideways)", 1, 12, "unknown word 'sideways'");
    check_error("rotate(10", 1, 10, "missing ')'");
    check_error("rotate(10\nhflip", 1, 10, "missing ')' to close the '(' at column 7");
    check_error("rotate(10 20)", 1, 11, "expected ',' or ')'");
    check_error("hflip >", 1, 8, "expected a transform after '>'");
    check_error("hflip > > vflip", 1, 9, "expected a transform before '>'");
    check_error("hflip vflip", 1, 7, "expected '>', ';' or the end of the line");
    check_error("> hflip", 1, 1, "expected a transform before '>'");
    check_error("hflip(1)", 1, 7, "too many numbers");
    check_error("scale(0)", 1, 7, "zoom factor");
    check_error("scale(-1.5)", 1, 7, "zoom factor");
    check_error("gamma(0)", 1, 7, "gamma must be > 0");
    check_error("rot90(1.5)", 1, 7, "whole number");
    check_error("crop(28)", 1, 1, "needs an anchor");
    check_error("crop(center, 150%)", 1, 14, "crop percentages");
    check_error("crop(center, 28, 50%)", 1, 18, "both in percent");
    check_error("resize(0, 10)", 1, 8, "whole numbers of pixels");
    check_error("resize(10.5)", 1, 8, "whole numbers of pixels");
    check_error("rotate(10%)", 1, 10, "takes no percentages");
    check_error("hflip(edge)", 1, 7, "takes no border mode");
    check_error("shift(1, 1, size=3)", 1, 13, "only fill= is allowed");
    check_error("shift(1, 1, constant, fill=2)", 1, 28, "fill must be between 0 and 1");
    check_error("shift(1, 1, constant, fill=)", 1, 28, "expected a number after 'fill='");
    check_error("shift(1, @)", 1, 10, "expected a number or a word, found '@'");
    check_error("rotate(nan)", 1, 8, "unknown word 'nan'");
    check_error("hflip; hflip", 1, 8, "view 'hflip' is already in the policy (view 1)");
    check_error("identity\nidentity", 2, 1, "identity view is listed twice");
    check_error("hflip\nflip", 2, 1, "view 'hflip' of preset 'flip' is already in the policy");
    check_error("hflip > seed", 1, 9, "preset 'seed' must be a view of its own");
    check_error("seed > hflip", 1, 1, "preset 'seed' must be a view of its own");
    check_error("a>b>c>d>e>f>g>h>i", 1, 1, "unknown transform 'a'");
    check_error("hflip>vflip>hflip>vflip>hflip>vflip>hflip>vflip>hflip", 1, 49, "too many transforms");
    check_error("# ok\nhflip\n\tbrightness(-1)", 3, 13, "the factor must be >= 0");
}

TEST(source_name_prefixes_errors) {
    tta_policy pol;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip\nbad", "my.policy"), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "my.policy: line 2, column 1: unknown transform 'bad'");
    tta_policy_destroy(&pol);
}

TEST(add_view_checks_and_refuses_duplicates) {
    tta_policy pol;
    CHECK(tta_policy_init(&pol) == TTA_OK);
    tta_view v = {0};
    CHECK_EQ_INT(tta_policy_add_view(&pol, &v), TTA_ERR_INVALID_ARG); /* the identity is there */
    v.n = 1;
    v.t[0].op = TTA_OP_SHIFT;
    v.t[0].p[0] = 3;
    v.t[0].border = TTA_BORDER_WRAP;
    v.t[0].interp = TTA_INTERP_BILINEAR;
    CHECK(tta_policy_add_view(&pol, &v) == TTA_OK);
    CHECK_EQ_INT(tta_policy_add_view(&pol, &v), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "already in the policy");
    v.t[0].op = TTA_OP_SCALE;
    v.t[0].p[0] = -1;
    CHECK_EQ_INT(tta_policy_add_view(&pol, &v), TTA_ERR_INVALID_ARG);
    /* growing past the initial capacity */
    for (int k = 1; k <= 40; k++) {
        tta_view r = {1, {{TTA_OP_ROTATE, {k, 0}, 0, 0, TTA_INTERP_BILINEAR, TTA_BORDER_EDGE, 0}}};
        CHECK(tta_policy_add_view(&pol, &r) == TTA_OK);
    }
    CHECK_EQ_INT(pol.n_views, 42);
    char text[4096];
    tta_policy_format(&pol, text, sizeof text);
    CHECK_STR_CONTAINS(text, "identity\nshift(3, 0, wrap)\nrotate(1, bilinear, edge)\n");
    tta_policy_destroy(&pol);
}

TEST(format_truncates_like_snprintf) {
    tta_policy pol;
    CHECK(parse_ok(&pol, "seed"));
    char full[1024], small[16];
    size_t n = tta_policy_format(&pol, full, sizeof full);
    size_t m = tta_policy_format(&pol, small, sizeof small);
    CHECK_EQ_INT(m, n);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    CHECK(strncmp(full, small, sizeof small - 1) == 0);
    CHECK_EQ_INT(tta_policy_format(&pol, NULL, 0), n);
    tta_policy_destroy(&pol);
}

TEST(view_weights) {
    tta_policy pol;
    /* no '@' anywhere: no weights */
    CHECK(parse_ok(&pol, "hflip; shift(1, 0, wrap)"));
    CHECK(pol.weights == NULL);
    tta_policy_destroy(&pol);
    /* '@ W' on some lines (the identity's too); the others weigh 1 */
    CHECK(parse_ok(&pol, "hflip @ 0.35\nshift(1, 0, wrap)   # no weight\nidentity @2\nrotate(10) @ 0 ; vflip @ 1e-3"));
    CHECK_EQ_INT(pol.n_views, 5);
    CHECK(pol.weights != NULL);
    if (pol.weights) {
        CHECK_NEAR(pol.weights[0], 2, 0);
        CHECK_NEAR(pol.weights[1], 0.35, 0);
        CHECK_NEAR(pol.weights[2], 1, 0);
        CHECK_NEAR(pol.weights[3], 0, 0);
        CHECK_NEAR(pol.weights[4], 0.001, 0);
    }
    char text[1024];
    tta_policy_format(&pol, text, sizeof text);
    CHECK(strcmp(text, "identity @ 2\nhflip @ 0.35\nshift(1, 0, wrap) @ 1\nrotate(10, bilinear, edge) @ 0\n"
                       "vflip @ 0.001\n") == 0);
    /* a view added later weighs 1; growing past the capacity keeps the weights */
    for (int k = 1; k <= 20; k++) {
        tta_view r = {1, {{TTA_OP_SHIFT, {0, k}, 0, 0, TTA_INTERP_NEAREST, TTA_BORDER_WRAP, 0}}};
        CHECK(tta_policy_add_view(&pol, &r) == TTA_OK);
    }
    CHECK_NEAR(pol.weights[1], 0.35, 0);
    CHECK_NEAR(pol.weights[24], 1, 0);
    tta_policy_destroy(&pol);
    check_round_trip("hflip @ 0.35; shift(3, 0, wrap) @ 1.5; identity @ 0.25");
    check_round_trip("seed\nhflip > vflip @ 3");
    /* a policy built without weights has none after init */
    tta_policy p2;
    memset(&p2, 0x5a, sizeof p2);
    CHECK(tta_policy_init(&p2) == TTA_OK);
    CHECK(p2.weights == NULL);
    tta_policy_destroy(&p2);
    /* malformed weights */
    check_error("hflip @", 1, 8, "expected a weight");
    check_error("hflip @ -1", 1, 9, "a weight must be a number >= 0");
    check_error("hflip @ x", 1, 9, "expected a weight");
    check_error("hflip @ 1 @ 2", 1, 11, "after the weight");
    check_error("hflip @ 1 > vflip", 1, 11, "after the weight");
    check_error("hflip\nseed @ 2", 2, 6, "preset 'seed' takes no weight");
    tta_status st = tta_policy_parse(&pol, "identity @ 0; hflip @ 0", "p.txt");
    CHECK_EQ_INT(st, TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "p.txt: every view has weight 0");
    CHECK(pol.weights == NULL && pol.n_views == 1);
    tta_policy_destroy(&pol);
}

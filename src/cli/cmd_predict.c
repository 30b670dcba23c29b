/* cmd_predict.c - `tta predict --model M --policy P IMAGE...`: the top classes of each image
 * with merged probabilities, and how uncertain the views are about it: the entropy of the
 * merged distribution and the agreement (share of views whose top class is the merged one). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "tta/classify.h"

#define MAX_MODELS 8

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta predict --model M [--model M2 ...] [--policy P] [--merge RULE] [--top N] IMAGE...\n\n"
               "Classifies PNG/JPEG images with test-time augmentation: every view of policy P (a\n"
               "preset such as seed, flip, d4, policy text, or a policy file; default: seed) goes\n"
               "through every model, and the outputs are merged (mean, logits, geometric, max, vote).\n"
               "Prints the top N classes (default 3) with merged probabilities, the entropy of the\n"
               "merged distribution (nats) and the agreement: the share of views (x models) whose\n"
               "own top class is the merged top class.\n\n%s",
            cli_format_help);
    return code;
}

int tta_cmd_predict(int argc, char **argv) {
    const char *models[MAX_MODELS], *policy = "seed", *merge_name = "mean";
    const char *files[1024];
    int n_models = 0, n_files = 0, top = 3, rc = 1;
    cli_format fmt_over = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout, 0);
        if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            if (n_models == MAX_MODELS) {
                fprintf(stderr, "tta: predict: at most %d models\n", MAX_MODELS);
                return 2;
            }
            models[n_models++] = argv[++i];
        } else if (!strcmp(argv[i], "--policy") && i + 1 < argc) policy = argv[++i];
        else if (!strcmp(argv[i], "--merge") && i + 1 < argc) merge_name = argv[++i];
        else if (!strcmp(argv[i], "--top") && i + 1 < argc) top = atoi(argv[++i]);
        else if (cli_format_flag(argc, argv, &i, &fmt_over)) continue;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "tta: predict: unknown or incomplete option '%s'\n", argv[i]);
            return usage(stderr, 2);
        } else if (n_files < 1024) files[n_files++] = argv[i];
    }
    if (!n_models || !n_files) return usage(stderr, 2);
    tta_merge merge;
    if (tta_merge_parse(merge_name, &merge)) return cli_fail();

    tta_model *m[MAX_MODELS] = {0};
    tta_classifier *c[MAX_MODELS] = {0};
    tta_policy pol = {0};
    tta_image img = {0};
    float *vp = NULL, *probs = NULL;
    char **names = NULL;
    int k = 0;
    if (cli_load_policy(policy, &pol)) goto done;
    for (int j = 0; j < n_models; j++) {
        if (tta_model_load(models[j], cli_model_options(), &m[j])) {
            cli_fail();
            goto done;
        }
        if (cli_classifier_new(&c[j], m[j], &fmt_over, 0, 0)) goto done;
    }
    for (int f = 0; f < n_files; f++) {
        if (tta_image_read(&img, files[f])) {
            cli_fail();
            goto done;
        }
        int nv = pol.n_views;
        for (int j = 0; j < n_models; j++) {
            /* the class count is learnt from one run of the first image, then known */
            int kj = tta_classifier_n_classes(c[j]);
            if (!kj && tta_classify_views(c[j], &pol, &img, 1, NULL, &kj)) {
                fprintf(stderr, "tta: %s: %s\n", models[j], tta_last_error());
                goto done;
            }
            if (j == 0 && !vp) {
                k = kj;
                vp = malloc(sizeof(float) * (size_t)(k * nv * n_models));
                probs = malloc(sizeof(float) * (size_t)k);
                names = cli_class_names(m[0], k);
            } else if (kj != k) {
                fprintf(stderr, "tta: %s: gives %d classes but %s gives %d\n", models[j], kj, models[0], k);
                goto done;
            }
            if (!vp || !probs || tta_classify_views(c[j], &pol, &img, 1, vp + (size_t)j * nv * k, NULL)) {
                cli_fail();
                goto done;
            }
        }
        /* a policy with view weights ("view @ W") merges by weighted mean unless told otherwise */
        tta_merge used_merge = pol.weights && merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : merge;
        tta_merger mg = {0};
        if (tta_merger_init(&mg, used_merge, k)) {
            cli_fail();
            goto done;
        }
        for (int v = 0; v < nv * n_models; v++)
            tta_merger_add(&mg, vp + (size_t)v * k, pol.weights ? pol.weights[v % nv] : 1.0);
        tta_merger_result(&mg, probs);
        tta_merger_destroy(&mg);
        int best = tta_argmax(probs, k), agree = 0;
        double entropy = 0;
        for (int v = 0; v < nv * n_models; v++) agree += tta_argmax(vp + (size_t)v * k, k) == best;
        for (int i = 0; i < k; i++)
            if (probs[i] > 0) entropy -= probs[i] * log(probs[i]);
        printf("%s: %d views x %d model%s, entropy %.3f, agreement %d/%d\n", files[f], nv, n_models,
               n_models > 1 ? "s" : "", entropy, agree, nv * n_models);
        char *used = calloc((size_t)k, 1);
        for (int t = 0; t < top && t < k && used; t++) {
            int b = -1;
            for (int i = 0; i < k; i++)
                if (!used[i] && (b < 0 || probs[i] > probs[b])) b = i;
            used[b] = 1;
            char label[32];
            snprintf(label, sizeof label, "class %d", b);
            printf("  %2d. %-16s %.4f\n", t + 1, names && names[b] ? names[b] : label, probs[b]);
        }
        free(used);
        tta_image_destroy(&img);
    }
    rc = 0;
done:
    tta_image_destroy(&img);
    for (int j = 0; j < n_models; j++) {
        tta_classifier_free(c[j]);
        tta_model_free(m[j]);
    }
    tta_policy_destroy(&pol);
    cli_free_names(names, k);
    free(vp);
    free(probs);
    return rc;
}

/* cli_util.c - see cli_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "tta/tensor_io.h"

int cli_fail(void) {
    fprintf(stderr, "tta: %s\n", tta_last_error());
    return 1;
}

int cli_load_policy(const char *arg, tta_policy *pol) {
    struct stat st;
    const char *path = arg[0] == '@' ? arg + 1 : NULL;
    if (!path && !tta_policy_preset(arg) && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) path = arg;
    if (path) {
        void *buf;
        size_t size;
        if (tta_read_file(path, &buf, &size)) return cli_fail();
        ((char *)buf)[size] = '\0';
        tta_status s = tta_policy_parse(pol, buf, path);
        tta_free(buf);
        return s ? cli_fail() : 0;
    }
    return tta_policy_parse(pol, arg, NULL) ? cli_fail() : 0;
}

char **cli_class_names(const tta_model *m, int k) {
    char **names = calloc((size_t)k + 1, sizeof(char *));
    const char *s = m ? tta_model_metadata(m, "tta.class_names") : NULL;
    for (int i = 0; s && names && i < k; i++) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        names[i] = strndup(s, n);
        s = end ? end + 1 : NULL;
    }
    return names;
}

void cli_free_names(char **names, int k) {
    for (int i = 0; names && i < k; i++) free(names[i]);
    free(names);
}

/*
** policy_source.c — a policy directory's files with the limits they load under
** (policy_source.h).
*/
#include "policy_source.h"

#include <string.h>

int wd_policy_source_read(const char *directory, const wd_sandbox_limits *limits, wd_policy_source *out,
                          char *error, size_t capacity)
{
    memset(out, 0, sizeof *out);
    out->limits = *limits;
    return wd_policy_files_read(directory, &out->files, error, capacity);
}

void wd_policy_source_clear(wd_policy_source *source)
{
    wd_policy_files_clear(&source->files);
}

size_t wd_policy_source_text_bytes(const wd_policy_source *source)
{
    const wd_policy_files *files = &source->files;
    size_t text = 0;
    for (size_t i = 0; i < files->policy_count; i++)
        text += files->policies[i].length;
    for (size_t i = 0; i < files->test_count; i++)
        text += files->tests[i].length;
    for (size_t i = 0; i < files->data_count; i++)
        text += files->data[i].length;
    return text;
}

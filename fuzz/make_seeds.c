/*
** make_seeds.c — fuzz_make_seeds RECEIVE_DIR XSW_DIR: writes the seed messages of seeds.h
** (one file each) into RECEIVE_DIR, and the deterministic signed ones, the originals the xsw
** target's oracle knows, into XSW_DIR. Needs WARDEN_TEST_PKI.
*/
#include <stdio.h>

#include "fixture.h"
#include "seeds.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_make_seeds RECEIVE_DIR XSW_DIR (with WARDEN_TEST_PKI set)\n");
        return 2;
    }
    fz_seed *seeds = NULL;
    size_t count = 0;
    fz_seeds_make(&seeds, &count);
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], seeds[i].name);
        fz_write_file(path, seeds[i].bytes, seeds[i].length);
        if (!seeds[i].deterministic)
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[2], seeds[i].name);
        fz_write_file(path, seeds[i].bytes, seeds[i].length);
    }
    fz_seeds_free(seeds, count);
    return 0;
}

/*
** config.c — fuzzes the config-file loader, warden_config_load, on arbitrary text: a Lua
** chunk evaluated in an empty sandbox with an instruction limit, then checked against the
** schema. A load either succeeds or fails with CONFIG and a text that names the problem; on
** failure the config must be left unchanged (checked by loading a known-good file after it).
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256], good_path[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "%s/warden.conf.lua", fz_scratch_dir());
        snprintf(good_path, sizeof good_path, "%s/good.conf.lua", fz_scratch_dir());
        static const char good[] = "return { clock = { ttl = 300 }, require = { signed = { \"Body\" } } }\n";
        fz_write_file(good_path, good, strlen(good));
    }
    fz_write_file(path, data, size);

    warden_config *config = NULL;
    warden_error err = { 0 };
    if (warden_config_new(&config) != WARDEN_OK)
        fz_fail("config: warden_config_new");
    int status = warden_config_load(config, path, &err);
    if (status != WARDEN_OK && status != WARDEN_E_CONFIG && status != WARDEN_E_NOMEM)
        fz_fail("config: status %d (%s)", status, err.text);
    if (status == WARDEN_E_CONFIG && err.text[0] == '\0')
        fz_fail("config: a CONFIG error without a text");
    /* the config stays usable whatever the file did to it */
    if (warden_config_load(config, good_path, &err) != WARDEN_OK)
        fz_fail("config: a good file no longer loads after a bad one: %s", err.text);
    warden_config_free(config);
    return 0;
}

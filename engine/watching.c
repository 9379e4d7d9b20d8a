/*
** watching.c — TEMPORARY until engine/watch.c lands: no watching yet.
*/
#include "engine.h"

int wd_engine_watch_start(warden_engine *engine, warden_error *err)
{
    (void)engine;
    (void)err;
    return WARDEN_OK;
}

void wd_engine_watch_stop(warden_engine *engine)
{
    (void)engine;
}

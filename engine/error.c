/*
** error.c — filling the caller's optional warden_error (the version and status-code texts
** are in base/version.c).
*/
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int wd_error_set(warden_error *err, int code, const char *reason, const char *format, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    snprintf(err->reason, sizeof err->reason, "%s", reason != NULL ? reason : "");
    va_list args;
    va_start(args, format);
    vsnprintf(err->text, sizeof err->text, format, args);
    va_end(args);
    return code;
}

int wd_error_from_failure(warden_error *err, const wd_failure *failure)
{
    int code = failure->code != 0 ? failure->code : WARDEN_E_INTERNAL;
    wd_reason reason = failure->reason != WD_REASON_NONE ? failure->reason : WD_REASON_INTERNAL_ERROR;
    return wd_error_set(err, code, wd_reason_name(reason), "%s", failure->detail);
}

void wd_error_clear(warden_error *err)
{
    if (err == NULL)
        return;
    err->code = WARDEN_OK;
    err->reason[0] = '\0';
    err->text[0] = '\0';
}

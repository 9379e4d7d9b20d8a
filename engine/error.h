/*
** error.h — filling the caller's optional warden_error, for every engine/ file.
*/
#ifndef WD_ENGINE_ERROR_H
#define WD_ENGINE_ERROR_H

#include "../core/failure.h"
#include "../include/warden.h"

/* Fills err (may be NULL) with code, reason and a printf-style text. Returns code. */
int wd_error_set(warden_error *err, int code, const char *reason, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills err from a core failure record. Returns failure->code (WARDEN_E_SECURITY for a
** rejection), or WARDEN_E_INTERNAL when the record is empty. */
int wd_error_from_failure(warden_error *err, const wd_failure *failure);

/* Marks err as success (code 0, empty strings). */
void wd_error_clear(warden_error *err);

#endif

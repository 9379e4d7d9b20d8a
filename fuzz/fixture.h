/*
** fixture.h — what the fuzz targets share: an engine made from a real config over the test
** PKI (trust anchor, known certificates, users file), the fixed evaluation time that keeps
** the seed messages valid, a private scratch folder, and a walk over every getter of a
** delivered message. A broken fixture aborts: a fuzz run without it would test nothing.
*/
#ifndef FZ_FIXTURE_H
#define FZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "include/warden.h"

/* The evaluation time of every receive: the clock the unit tests pin (TM_NOW), inside the
** seeds' Timestamp windows and the test PKI's validity. */
int64_t fz_now(void);

/* An engine over the test PKI (WARDEN_TEST_PKI): trust = ca.pem, certs = known.pem,
** users = users.txt, then the given extra (key, value) pairs (NULL-terminated; may be NULL).
** Aborts when it cannot be made. Owned by the caller (warden_engine_free). */
warden_engine *fz_engine_new(const char *const *settings);

/* Reads every message property, every token property and some Body texts, checking the
** getters' contracts (sizes, NUL termination, list shapes); aborts on a broken contract. */
void fz_exercise_message(const warden_message *message);

/* A scratch folder private to this process (made once, removed at exit). */
const char *fz_scratch_dir(void);

/* Writes bytes to path (truncating). Aborts on failure. */
void fz_write_file(const char *path, const void *data, size_t size);

/* Aborts with a message on standard error: the way a target reports a finding of its own. */
void fz_fail(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif

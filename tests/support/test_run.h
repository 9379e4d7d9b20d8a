/*
** test_run.h — the end of every unit test's main: run a Check suite and turn its failures
** into the exit status ctest reads.
*/
#ifndef WARDEN_TEST_RUN_H
#define WARDEN_TEST_RUN_H

#include <check.h>

/* Runs every test of suite (in forked children, Check's default), prints Check's normal
** summary, frees the suite, and returns EXIT_SUCCESS when no test failed, else EXIT_FAILURE. */
int tr_run_suite(Suite *suite);

#endif

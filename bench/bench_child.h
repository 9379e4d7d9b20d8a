/*
** bench_child.h — a helper program (the WSS4J harness in its JVM) started once and spoken to
** over a pipe pair, so that its start-up never counts in a figure.
*/
#ifndef WARDEN_BENCH_CHILD_H
#define WARDEN_BENCH_CHILD_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Runs argv (argv[0] looked up in PATH) with its standard input and output on pipes: *to
** writes to it, *from reads from it. Returns 0, or -1 when a pipe, the fork or a stream
** cannot be made. */
static inline int bench_spawn_piped(char *const argv[], pid_t *pid, FILE **to, FILE **from)
{
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0)
        return -1;
    if (pipe(from_child) != 0) {
        close(to_child[0]);
        close(to_child[1]);
        return -1;
    }
    *pid = fork();
    if (*pid < 0)
        return -1;
    if (*pid == 0) {
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    *to = fdopen(to_child[1], "w");
    *from = fdopen(from_child[0], "r");
    return *to != NULL && *from != NULL ? 0 : -1;
}

#endif

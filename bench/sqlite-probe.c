/*
 * sqlite-probe: runs SQL on a SQLite file with the very SQLite the service links (the
 * amalgamation bundled by libsqlite3-sys, built with its flags, STAT4 included), so that
 * ANALYZE, EXPLAIN QUERY PLAN and timings match what the service sees. The system sqlite3
 * shell is often older and plans differently. Built on demand by bench/lib.sh.
 *
 *   sqlite-probe DB [-t RUNS] SQL [SQL ...]
 *
 * Each SQL runs in order on one connection. With -t RUNS (applies to the statements after
 * it; -t 0 turns timing off), a statement runs RUNS times and its wall times are printed as
 * min/median/max in ms; its rows are printed once. EXPLAIN QUERY PLAN output is drawn as a
 * tree like the sqlite3 shell does.
 */
#include "sqlite3.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one statement to completion; prints its rows when `print`. Returns 0 on success. */
static int run(sqlite3 *db, const char *sql, int print) {
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_prepare_v2(db, tail, -1, &stmt, &tail) != SQLITE_OK) {
            fprintf(stderr, "error: %s\n  in: %s\n", sqlite3_errmsg(db), sql);
            return 1;
        }
        if (!stmt) break; /* whitespace or comment */
        int eqp = sqlite3_stmt_isexplain(stmt) == 2;
        int ids[256], depth[256], n = 0, rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            if (!print) continue;
            int cols = sqlite3_column_count(stmt);
            if (eqp) { /* id, parent, notused, detail */
                int id = sqlite3_column_int(stmt, 0), parent = sqlite3_column_int(stmt, 1), d = 0;
                for (int i = 0; i < n; i++) if (ids[i] == parent) d = depth[i] + 1;
                if (n < 256) { ids[n] = id; depth[n] = d; n++; }
                printf("%*s%s\n", 2 * d, "", (const char *)sqlite3_column_text(stmt, 3));
                continue;
            }
            for (int c = 0; c < cols; c++) {
                const unsigned char *v = sqlite3_column_text(stmt, c);
                printf("%s%s", c ? "|" : "", v ? (const char *)v : "");
            }
            printf("\n");
        }
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "error: %s\n  in: %s\n", sqlite3_errmsg(db), sql);
            sqlite3_finalize(stmt);
            return 1;
        }
        sqlite3_finalize(stmt);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB [-t RUNS] SQL [SQL ...]\n", argv[0]);
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_busy_timeout(db, 15000);
    int runs = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            continue;
        }
        if (strcasecmp(argv[i], "--version") == 0) {
            printf("%s\n", sqlite3_libversion());
            continue;
        }
        if (runs <= 0) {
            if (run(db, argv[i], 1)) return 1;
            continue;
        }
        double *t = calloc(runs, sizeof *t);
        for (int r = 0; r < runs; r++) {
            double start = now_ms();
            if (run(db, argv[i], r == 0)) return 1;
            t[r] = now_ms() - start;
        }
        qsort(t, runs, sizeof *t, cmp_double);
        double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        printf("time over %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n",
               runs, t[0], med, t[runs - 1]);
        free(t);
    }
    sqlite3_close(db);
    return 0;
}

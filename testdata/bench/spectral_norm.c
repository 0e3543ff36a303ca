/* The Benchmarks Game spectral-norm for n = 1000: the largest singular value
 * of the infinite matrix A(i, j) = 1 / ((i + j)(i + j + 1) / 2 + i + 1),
 * truncated to n x n, by 10 rounds of the power method on A^T A. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static double eval_a(int64_t i, int64_t j) {
    return 1.0 / (double)((i + j) * (i + j + 1) / 2 + i + 1);
}

static void mult_av(const double *v, double *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++)
            sum += eval_a(i, j) * v[j];
        out[i] = sum;
    }
}

static void mult_atv(const double *v, double *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++)
            sum += eval_a(j, i) * v[j];
        out[i] = sum;
    }
}

static void mult_atav(const double *v, double *out, double *tmp, int64_t n) {
    mult_av(v, tmp, n);
    mult_atv(tmp, out, n);
}

int main(void) {
    int64_t n = 1000;
    double *u = malloc(n * sizeof *u);
    double *v = malloc(n * sizeof *v);
    double *tmp = malloc(n * sizeof *tmp);
    if (u == NULL || v == NULL || tmp == NULL)
        return 1;
    for (int64_t i = 0; i < n; i++) {
        u[i] = 1.0;
        v[i] = 0.0;
        tmp[i] = 0.0;
    }
    for (int64_t round = 0; round < 10; round++) {
        mult_atav(u, v, tmp, n);
        mult_atav(v, u, tmp, n);
    }
    double vbv = 0.0, vv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    printf("%.9f\n", sqrt(vbv / vv));
    free(u);
    free(v);
    free(tmp);
    return 0;
}

/* The Benchmarks Game fannkuch-redux for n = 10: for every permutation of
 * 0..n (in the benchmark's order), count the prefix reversals ("flips") until
 * 0 comes first; print the alternating-sign checksum and the most flips. */
#include <stdio.h>
#include <stdint.h>

#define MAX_N 16

static void fannkuch(int64_t n, int64_t *checksum_out, int64_t *max_flips_out) {
    int64_t perm1[MAX_N], perm[MAX_N], count[MAX_N];
    for (int64_t i = 0; i < n; i++) {
        perm1[i] = i;
        perm[i] = 0;
        count[i] = 0;
    }
    int64_t max_flips = 0, checksum = 0, perm_count = 0;
    int64_t r = n;
    for (;;) {
        while (r != 1) {
            count[r - 1] = r;
            r -= 1;
        }
        for (int64_t i = 0; i < n; i++)
            perm[i] = perm1[i];
        int64_t flips = 0;
        int64_t k = perm[0];
        while (k != 0) {
            int64_t i = 0, j = k;
            while (i < j) {
                int64_t t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
                i += 1;
                j -= 1;
            }
            flips += 1;
            k = perm[0];
        }
        if (flips > max_flips)
            max_flips = flips;
        if (perm_count % 2 == 0)
            checksum += flips;
        else
            checksum -= flips;
        /* The next permutation: rotate the first r + 1 elements left until
         * one of them has not yet been rotated through. */
        for (;;) {
            if (r == n) {
                *checksum_out = checksum;
                *max_flips_out = max_flips;
                return;
            }
            int64_t perm0 = perm1[0];
            for (int64_t i = 0; i < r; i++)
                perm1[i] = perm1[i + 1];
            perm1[r] = perm0;
            count[r] -= 1;
            if (count[r] > 0)
                break;
            r += 1;
        }
        perm_count += 1;
    }
}

int main(void) {
    int64_t n = 10;
    int64_t checksum, max_flips;
    fannkuch(n, &checksum, &max_flips);
    printf("%lld\nPfannkuchen(%lld) = %lld\n", (long long)checksum, (long long)n, (long long)max_flips);
    return 0;
}

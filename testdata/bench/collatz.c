/* Longest Collatz chain for a start below LIMIT: a data-dependent integer
 * while loop. */
#include <stdio.h>
#include <stdint.h>

static int64_t chain_length(int64_t start) {
    int64_t n = start;
    int64_t steps = 1;
    while (n != 1) {
        if (n % 2 == 0)
            n = n / 2;
        else
            n = 3 * n + 1;
        steps += 1;
    }
    return steps;
}

int main(void) {
    int64_t limit = 300000;
    int64_t best = 1, best_len = 1;
    for (int64_t start = 1; start < limit; start++) {
        int64_t len = chain_length(start);
        if (len > best_len) {
            best = start;
            best_len = len;
        }
    }
    printf("%lld %lld\n", (long long)best, (long long)best_len);
    return 0;
}

/* Integer loops: a nested-loop checksum that mixes multiply and modulo (each
 * step depends on the last), then a prime count by trial division. */
#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

static int64_t mix(int64_t n) {
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            acc = (acc * 31 + i * j + (i + j) % 7) % 1000003;
    return acc;
}

static bool is_prime(int64_t n) {
    if (n < 2) return false;
    if (n % 2 == 0) return n == 2;
    int64_t d = 3;
    while (d * d <= n) {
        if (n % d == 0) return false;
        d += 2;
    }
    return true;
}

static int64_t count_primes(int64_t limit) {
    int64_t count = 0;
    int64_t n = 0;
    while (n < limit) {
        if (is_prime(n)) count += 1;
        n += 1;
    }
    return count;
}

int main(void) {
    printf("%lld\n", (long long)mix(6000));
    printf("%lld\n", (long long)count_primes(1000000));
    return 0;
}

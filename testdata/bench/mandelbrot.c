/* Float loop: count the points of an N x N grid over [-2,1] x [-1.5,1.5] whose
 * orbit stays bounded for MAX_ITER iterations of z = z^2 + c. */
#include <stdio.h>
#include <stdint.h>

static int64_t mandelbrot(int64_t size, int64_t max_iter) {
    double n = (double)size;
    int64_t count = 0;
    for (int64_t y = 0; y < size; y++) {
        double ci = (double)y * 3.0 / n - 1.5;
        for (int64_t x = 0; x < size; x++) {
            double cr = (double)x * 3.0 / n - 2.0;
            double zr = 0.0, zi = 0.0;
            int64_t i = 0;
            while (i < max_iter && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                i += 1;
            }
            if (i == max_iter) count += 1;
        }
    }
    return count;
}

int main(void) {
    printf("%lld\n", (long long)mandelbrot(1000, 200));
    return 0;
}

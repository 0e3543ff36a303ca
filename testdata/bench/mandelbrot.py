# Float loop: count the points of an N x N grid over [-2,1] x [-1.5,1.5] whose
# orbit stays bounded for MAX_ITER iterations of z = z^2 + c.


def mandelbrot(size, max_iter):
    n = float(size)
    count = 0
    for y in range(size):
        ci = float(y) * 3.0 / n - 1.5
        for x in range(size):
            cr = float(x) * 3.0 / n - 2.0
            zr = 0.0
            zi = 0.0
            i = 0
            while i < max_iter and zr * zr + zi * zi <= 4.0:
                t = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = t
                i += 1
            if i == max_iter:
                count += 1
    return count


def main():
    print(mandelbrot(1000, 200))


main()

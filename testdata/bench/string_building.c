/* String building: build a line of 8 fields with += and interpolation, split
 * it, slice, join and replace the pieces, look a piece up with find, parse one
 * back to an integer, and join batches of lines into a page that is split
 * again; a checksum of lengths, positions and values is printed. ASCII only.
 * Strings live in fixed-size buffers on the stack, as C would write it. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 8
#define FIELD_MAX 16
#define LINE_MAX 256
#define PAGE_LINES 64
#define PAGE_MAX (PAGE_LINES * 32)

/* Appends src (n bytes) at dst[len]; returns the new length. */
static size_t append(char *dst, size_t len, const char *src, size_t n) {
    memcpy(dst + len, src, n);
    dst[len + n] = '\0';
    return len + n;
}

static size_t build_line(int64_t i, char *line) {
    size_t len = 0;
    line[0] = '\0';
    for (int64_t k = 0; k < FIELDS; k++) {
        if (k > 0)
            len = append(line, len, ",", 1);
        char piece[FIELD_MAX];
        int n = snprintf(piece, sizeof piece, "w%lld", (long long)((i * 31 + k * 17) % 1000));
        len = append(line, len, piece, (size_t)n);
    }
    return len;
}

/* Splits s at every sep (one character) into parts; returns their number. */
static int64_t split(const char *s, char sep, char parts[][FIELD_MAX], int64_t max_parts) {
    int64_t count = 0;
    const char *start = s;
    for (;;) {
        const char *end = strchr(start, sep);
        size_t n = end != NULL ? (size_t)(end - start) : strlen(start);
        if (count < max_parts) {
            memcpy(parts[count], start, n);
            parts[count][n] = '\0';
        }
        count += 1;
        if (end == NULL)
            return count;
        start = end + 1;
    }
}

/* Joins n strings with sep into out; returns the length. */
static size_t join(const char *sep, char parts[][FIELD_MAX], int64_t n, char *out) {
    size_t len = 0, sep_len = strlen(sep);
    out[0] = '\0';
    for (int64_t i = 0; i < n; i++) {
        if (i > 0)
            len = append(out, len, sep, sep_len);
        len = append(out, len, parts[i], strlen(parts[i]));
    }
    return len;
}

/* Replaces every occurrence of from in s by to, into out; returns the length. */
static size_t replace(const char *s, const char *from, const char *to, char *out) {
    size_t len = 0, from_len = strlen(from), to_len = strlen(to);
    out[0] = '\0';
    for (;;) {
        const char *hit = strstr(s, from);
        if (hit == NULL)
            return append(out, len, s, strlen(s));
        len = append(out, len, s, (size_t)(hit - s));
        len = append(out, len, to, to_len);
        s = hit + from_len;
    }
}

static int64_t find(const char *s, const char *sub) {
    const char *hit = strstr(s, sub);
    return hit != NULL ? (int64_t)(hit - s) : -1;
}

/* The number of pieces split(text, sep) would give. */
static int64_t count_parts(const char *text, char sep) {
    int64_t count = 1;
    for (const char *p = strchr(text, sep); p != NULL; p = strchr(p + 1, sep))
        count += 1;
    return count;
}

int main(void) {
    int64_t iterations = 300000;
    int64_t total = 0;
    char page[PAGE_LINES][FIELD_MAX * 2 + 4];
    int64_t page_len = 0;
    for (int64_t i = 0; i < iterations; i++) {
        char line[LINE_MAX];
        build_line(i, line);
        char fields[FIELDS][FIELD_MAX];
        int64_t n_fields = split(line, ',', fields, FIELDS);
        char nums[FIELDS][FIELD_MAX];
        for (int64_t f = 0; f < n_fields; f++) {
            size_t len = strlen(fields[f]);
            memcpy(nums[f], fields[f] + 1, len - 1);
            nums[f][len - 1] = '\0';
        }
        char joined[LINE_MAX], replaced[LINE_MAX * 3];
        join("-", nums, n_fields, joined);
        size_t replaced_len = replace(joined, "1", "one", replaced);
        total += (int64_t)replaced_len;
        total += find(replaced, "one");
        total += strtoll(nums[i % 8], NULL, 10);
        char label[FIELD_MAX * 2 + 4];
        size_t label_len = 0;
        label_len = append(label, label_len, "<", 1);
        label_len = append(label, label_len, nums[0], strlen(nums[0]));
        label_len = append(label, label_len, "|", 1);
        label_len = append(label, label_len, nums[7], strlen(nums[7]));
        label_len = append(label, label_len, ">", 1);
        total += (int64_t)label_len;
        memcpy(page[page_len], label, label_len + 1);
        page_len += 1;
        if (page_len == PAGE_LINES) {
            char text[PAGE_MAX];
            size_t text_len = 0;
            for (int64_t l = 0; l < page_len; l++) {
                if (l > 0)
                    text_len = append(text, text_len, "\n", 1);
                text_len = append(text, text_len, page[l], strlen(page[l]));
            }
            total += (int64_t)text_len + count_parts(text, '\n');
            page_len = 0;
        }
    }
    printf("%lld\n", (long long)total);
    char last[LINE_MAX];
    build_line(iterations, last);
    printf("%lld %s\n", (long long)page_len, last);
    return 0;
}

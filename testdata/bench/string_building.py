# String building: build a line of 8 fields with += and interpolation, split
# it, slice, join and replace the pieces, look a piece up with find, parse one
# back to an integer, and join batches of lines into a page that is split
# again; a checksum of lengths, positions and values is printed. ASCII only.


def build_line(i):
    line = ""
    for k in range(8):
        if k > 0:
            line += ","
        line += f"w{(i * 31 + k * 17) % 1000}"
    return line


def main():
    iterations = 300000
    total = 0
    page = []
    for i in range(iterations):
        line = build_line(i)
        fields = line.split(",")
        nums = []
        for f in fields:
            nums.append(f[1 : len(f)])
        joined = "-".join(nums)
        replaced = joined.replace("1", "one")
        total += len(replaced)
        total += replaced.find("one")
        total += int(nums[i % 8])
        label = "<" + nums[0] + "|" + nums[7] + ">"
        total += len(label)
        page.append(label)
        if len(page) == 64:
            text = "\n".join(page)
            total += len(text) + len(text.split("\n"))
            page = []
    print(total)
    print(f"{len(page)} {build_line(iterations)}")


main()

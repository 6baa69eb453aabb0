#!/usr/bin/env python3
"""Checks that every README code block marked
`<!-- snippet: FILE -->` is exactly the part of FILE between its
`// [readme-begin]` and `// [readme-end]` lines (the README's example is the
one the tests build and run)."""
import re
import sys


def main():
    root = sys.argv[1]
    readme = open(f"{root}/README.md", encoding="utf-8").read()
    blocks = re.findall(r"<!-- snippet: (\S+) -->\n```\w*\n(.*?)```\n", readme, re.S)
    if not blocks:
        print("README.md has no <!-- snippet: FILE --> block")
        return 1
    bad = 0
    for path, block in blocks:
        text = open(f"{root}/{path}", encoding="utf-8").read()
        m = re.search(r"// \[readme-begin\]\n(.*?)// \[readme-end\]", text, re.S)
        if not m:
            print(f"{path}: no // [readme-begin] ... // [readme-end] region")
            bad += 1
        elif m.group(1) != block:
            print(f"README.md's snippet of {path} differs from the file; copy the region again")
            bad += 1
        else:
            print(f"ok: README.md shows {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

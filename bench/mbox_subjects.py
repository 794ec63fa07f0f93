#!/usr/bin/env python3
"""Query texts for whoknows-load from a mail archive: the subjects of N
messages sampled deterministically (random.Random(seed)), with "Re:", "Fwd:"
and "[list]" prefixes removed, one per line.

  bench/mbox_subjects.py --n 200 --seed 1 ../shared/data/mbox/r-devel > rdevel_queries.txt
"""
import argparse
import email.header
import lzma
import os
import random
import re
import sys


def subjects(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as f:
        in_headers = False
        for raw in f:
            if raw.startswith(b"From "):
                in_headers = True
                continue
            if in_headers:
                if raw in (b"\n", b"\r\n"):
                    in_headers = False
                elif raw[:8].lower() == b"subject:":
                    yield raw[8:].decode("utf-8", "replace").strip()
                    in_headers = False


def clean(s):
    try:
        s = str(email.header.make_header(email.header.decode_header(s)))
    except Exception:  # malformed encoded words: keep the raw text
        pass
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"^\s*((re|fwd?|aw)\s*:|\[[^\]]*\])\s*", "", s, flags=re.I)
    return " ".join(s.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    files = []
    for p in a.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, x) for x in os.listdir(p))
        else:
            files.append(p)
    subs = [c for f in files for c in (clean(s) for s in subjects(f)) if c]
    for s in random.Random(a.seed).sample(subs, min(a.n, len(subs))):
        print(s)
    print(f"{len(subs)} subjects, {min(a.n, len(subs))} sampled", file=sys.stderr)


if __name__ == "__main__":
    main()

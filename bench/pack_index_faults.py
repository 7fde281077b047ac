#!/usr/bin/env python3
"""What looking commits up in a pack index costs in page faults and mapped memory (issue 27).

Usage: bench/pack_index_faults.py REPO BASE [--search binary|interpolation|pread ...]

Looks up the ids of `git rev-list main ^BASE` and BASE (the commits the gate's walk reads) in
REPO's one pack .idx, the way libgit2 1.5 and git do: the .idx mapped whole, the fan-out
table, a binary search of the bucket's SHA-1 table, one read of the offset table. It prints
the minor faults and the growth of RssFile (mapped file pages) over the lookups alone. Two
other searches bound what any reader could do: `interpolation` (ids are uniformly spread, so
the first probe lands next to the id: about one page of each table) and `pread` (the index
read with pread(2) into a buffer: nothing mapped, a system call per probe instead).
"""
import argparse, mmap, os, resource, struct, subprocess, time


class Pread:
    """The index read with pread(2): slices are system calls, nothing of the file is mapped."""

    def __init__(self, fd):
        self.fd, self.calls = fd, 0

    def __getitem__(self, s):
        self.calls += 1
        return os.pread(self.fd, s.stop - s.start, s.start)


def rss_file_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    return 0


def position(m, sha0, lo, hi, oid, search):
    """The id's row in the SHA-1 table between rows lo and hi (its fan-out bucket)."""
    key = int.from_bytes(oid[:8], "big")
    low_key, high_key = oid[0] << 56, (oid[0] + 1) << 56
    while lo < hi:
        if search == "interpolation":
            mid = lo + min(hi - lo - 1, max(0, (key - low_key) * (hi - lo) // max(1, high_key - low_key)))
        else:
            mid = (lo + hi) // 2
        k = m[sha0 + 20 * mid:sha0 + 20 * mid + 20]
        if k == oid:
            return mid
        if k < oid:
            lo, low_key = mid + 1, int.from_bytes(k[:8], "big")
        else:
            hi, high_key = mid, int.from_bytes(k[:8], "big")
    raise SystemExit(f"{oid.hex()} not in the index")


def lookups(idx, ids, search):
    f = open(idx, "rb")
    m = Pread(f.fileno()) if search == "pread" else mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    n = struct.unpack(">I", m[8 + 255 * 4:8 + 256 * 4])[0]
    sha0, off0 = 8 + 1024, 8 + 1024 + 24 * n
    rss0, faults0, t0 = rss_file_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    for oid in ids:
        b = oid[0]
        lo = struct.unpack(">I", m[8 + (b - 1) * 4:8 + b * 4])[0] if b else 0
        hi = struct.unpack(">I", m[8 + b * 4:8 + (b + 1) * 4])[0]
        row = position(m, sha0, lo, hi, oid, search)
        m[off0 + 4 * row:off0 + 4 * row + 4]
    wall = time.perf_counter() - t0
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
    return n, faults, (rss_file_kb() - rss0) / 1024, wall, getattr(m, "calls", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("base")
    ap.add_argument("--search", action="append", choices=["binary", "interpolation", "pread"])
    a = ap.parse_args()
    out = subprocess.run(["git", "--git-dir=" + a.repo, "rev-list", "main", "^" + a.base], capture_output=True,
                         text=True, check=True).stdout
    ids = [bytes.fromhex(h) for h in out.split() + [a.base]]
    pack = os.path.join(a.repo, "objects", "pack")
    idx = [os.path.join(pack, p) for p in sorted(os.listdir(pack)) if p.endswith(".idx")][0]
    for search in a.search or ["binary", "interpolation", "pread"]:
        n, faults, mb, wall, calls = lookups(idx, ids, search)
        extra = f", {calls:,} pread calls" if calls else ""
        print(f"{search}: {len(ids)} ids in an index of {n:,} objects ({os.path.getsize(idx) / 1e6:.1f} MB): "
              f"{faults} minor faults, RssFile +{mb:.1f} MB{extra} ({wall * 1000:.1f} ms in Python)")


if __name__ == "__main__":
    main()

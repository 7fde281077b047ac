#!/usr/bin/env python3
"""Generate a workspace-shaped tree for drift's benchmark.

Shape: a source repo (nested packages of .py files), __pycache__ with .pyc files,
many small data/config files, and a few big model files under packages/models/.
Deterministic for a given (files, bytes, seed).
"""
import os, random, sys

def main():
    root, nfiles, total_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # Source files per directory (default 40); 2 gives a 50,000-file tree ~19,000 directories.
    per_dir = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    rnd = random.Random(42)
    os.makedirs(root, exist_ok=True)
    big_count = 4 if total_bytes < 4 << 30 else 8
    small_files = nfiles - big_count
    # ~70% source, 15% pycache, 15% small assets.
    n_src = int(small_files * 0.70)
    n_pyc = int(small_files * 0.15)
    n_asset = small_files - n_src - n_pyc
    chunk = bytes(rnd.getrandbits(8) for _ in range(1 << 16))
    written = 0
    def fill(path, size):
        nonlocal written
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
        written += size
    src_sizes = []
    for i in range(n_src):
        d = os.path.join(root, "src", f"pkg{i // (per_dir * 25)}", f"mod{(i // per_dir) % 25}")
        os.makedirs(d, exist_ok=True)
        size = rnd.randint(200, 12000)
        body = (f"# module {i}\n" + "def f(x):\n    return x * %d\n" % i) * (size // 40 + 1)
        with open(os.path.join(d, f"file{i}.py"), "w") as f:
            f.write(body[:size])
        written += size
    for i in range(n_pyc):
        d = os.path.join(root, "src", f"pkg{i // (per_dir * 25)}", f"mod{(i // per_dir) % 25}", "__pycache__")
        os.makedirs(d, exist_ok=True)
        fill(os.path.join(d, f"file{i}.cpython-311.pyc"), rnd.randint(300, 9000))
    for i in range(n_asset):
        d = os.path.join(root, "assets", f"set{i // 500}")
        os.makedirs(d, exist_ok=True)
        fill(os.path.join(d, f"asset{i}.json"), rnd.randint(100, 4000))
    models = os.path.join(root, "packages", "models")
    os.makedirs(models, exist_ok=True)
    remaining = max(total_bytes - written, big_count << 20)
    for i in range(big_count):
        fill(os.path.join(models, f"model{i}.bin"), remaining // big_count)
    print(f"{root}: {nfiles} files, {written / 1e9:.2f} GB")

if __name__ == "__main__":
    main()

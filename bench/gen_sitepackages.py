#!/usr/bin/env python3
"""Generate a site-packages of N files in D distributions, each with a valid RECORD."""
import base64, hashlib, os, sys

def main():
    sp, nfiles, ndists = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(sp, exist_ok=True)
    per = nfiles // ndists
    for d in range(ndists):
        name, ver = f"pkg{d}", "1.0"
        rows = []
        for i in range(per - 3):
            rel = f"{name}/sub{i // 50}/m{i}.py"
            body = (f"# {rel}\n" + "x = %d\n" % i) * (20 + i % 40)
            path = os.path.join(sp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f: f.write(body)
            h = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).rstrip(b"=").decode()
            rows.append(f"{rel},sha256={h},{len(body)}")
        di = os.path.join(sp, f"{name}-{ver}.dist-info")
        os.makedirs(di, exist_ok=True)
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n"
        with open(os.path.join(di, "METADATA"), "w") as f: f.write(meta)
        with open(os.path.join(di, "INSTALLER"), "w") as f: f.write("pip\n")
        for fn, body in (("METADATA", meta), ("INSTALLER", "pip\n")):
            h = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).rstrip(b"=").decode()
            rows.append(f"{name}-{ver}.dist-info/{fn},sha256={h},{len(body)}")
        rows.append(f"{name}-{ver}.dist-info/RECORD,,")
        with open(os.path.join(di, "RECORD"), "w") as f: f.write("\n".join(rows) + "\n")
    print(f"{sp}: {ndists} distributions, {ndists * per} files")

if __name__ == "__main__":
    main()

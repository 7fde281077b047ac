import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Bake")
struct BakeTests {
    /// An upstream with history, packed by `git gc` (so some of the base's blobs are deltas
    /// against each other and some against versions outside the base), one newer commit
    /// left loose, and names with a newline and a non-UTF-8 byte.
    static func upstream(_ dir: TempDir) throws -> (repo: String, workspace: String) {
        let u = dir.sub("up"), ws = dir.sub("ws")
        try sh("""
            git init -q -b main '\(u)' && cd '\(u)'
            seq 1 4000 > big.txt && mkdir -p pkg/sub && echo 'v = 1' > pkg/sub/mod.py
            git add -A && git commit -qm one
            seq 1 4100 > big.txt && for i in 1 2 3 4 5; do (seq 1 3000; echo "variant $i") > pkg/copy$i.txt; done
            printf 'x\\n' > "$(printf 'new\\nline.py')" && printf 'y\\n' > "$(printf 'caf\\351.py')"
            git add -A && git commit -qm two
            echo 'v = 2' > pkg/sub/mod.py && git commit -qam three && git gc -q
            echo late > late.txt && chmod +x late.txt && ln -s big.txt link && git add -A && git commit -qm four
            mkdir -p '\(ws)' && git archive HEAD | tar -x -C '\(ws)'
            """)
        return (u, ws)
    }

    @Test("bake: one pack, no loose objects; self-contained once the source repo is deleted; git fsck agrees")
    func selfContained() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (u, ws) = try Self.upstream(dir)
        let mdir = dir.sub("mdir")
        let want = try sh("git -C '\(u)' ls-tree -r --full-tree HEAD")
        let head = try sh("git -C '\(u)' rev-parse HEAD")
        let r = try drift(["manifest", "create", "--root", ws, "--repo", u, "--output", mdir])
        #expect(r.code == 0, "\(r.err)")
        try sh("rm -rf '\(u)'")
        let base = mdir + "/base.git"
        let files = try sh("cd '\(base)/objects' && find . -type f | sort")
        #expect(files.hasPrefix("./pack/pack-") && files.split(separator: "\n").count == 2, "\(files)")
        // git itself re-reads and re-hashes every object.
        #expect(try run(["git", "--git-dir=\(base)", "fsck", "--full", "--strict"]).code == 0)
        #expect(try sh("git --git-dir='\(base)' verify-pack '\(base)'/objects/pack/*.idx && echo ok") == "ok\n")
        // Deltas between baked blobs were kept, and they resolve.
        #expect(try sh("git --git-dir='\(base)' verify-pack -v '\(base)'/objects/pack/*.idx").contains("chain length"))
        #expect(try sh("git --git-dir='\(base)' ls-tree -r --full-tree HEAD") == want)
        #expect(try sh("git --git-dir='\(base)' rev-parse HEAD") == head)
        // drift reads it through libgit2: a clean scan, then a diff after an edit.
        let st = dir.sub("state")
        #expect(try drift(["scan", "--manifest", mdir, "--state", st]).code == 0)
        try sh("echo 'variant edited' >> pkg/copy3.txt", cwd: ws)
        let d = try drift(["diff", "--manifest", mdir, "--state", st])
        #expect(d.code == 1 && d.out.contains("+variant edited"), "\(d.err)")
    }

    @Test("bake: a flipped byte inside the pack is refused on read (exit 2, one line), not exported")
    func tamperedPack() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let u = dir.sub("up"), ws = dir.sub("ws"), mdir = dir.sub("mdir")
        // One big blob fills most of the pack, so its middle is that blob's data.
        try sh("""
            git init -q -b main '\(u)' && cd '\(u)' && echo a > a.txt && git add -A && git commit -qm one
            echo b > b.txt && git add -A && git commit -qm two
            head -c 300000 /dev/urandom > big.bin && git add -A && git commit -qm three
            mkdir -p '\(ws)' && git archive HEAD | tar -x -C '\(ws)'
            """)
        #expect(try drift(["manifest", "create", "--root", ws, "--repo", u, "--output", mdir]).code == 0)
        try sh("""
            p=$(ls '\(mdir)'/base.git/objects/pack/*.pack) && chmod u+w "$p"
            n=$(stat -c %s "$p") && b=$(od -An -tu1 -j $((n / 2)) -N1 "$p" | tr -d ' ')
            printf "\\\\$(printf %o $(( (b + 1) % 256 )))" | dd of="$p" bs=1 seek=$((n / 2)) conv=notrunc status=none
            """)
        #expect(try run(["git", "--git-dir=\(mdir)/base.git", "fsck", "--full"]).code != 0)
        try sh("head -c 1000 /dev/urandom >> big.bin", cwd: ws)
        let out = dir.sub("out")
        let e = try drift(["export", "--manifest", mdir, "--state", dir.sub("state"), "--output", out])
        #expect(e.code == 2, "\(e.out) \(e.err)")
        #expect(e.err.split(separator: "\n").count == 1, "\(e.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

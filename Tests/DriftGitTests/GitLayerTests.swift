import Foundation
import DriftTestSupport
import Testing
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// In-process unit tests of the libgit2 wrapper: the one tree walker, the tree diff, typed
/// modes, reference lookups and the one write loop. `git` itself is the oracle.
@Suite struct GitLayerTests {
    /// A bare repository in its own temp dir with a small tree of every mode.
    struct Repo {
        let dir: TempDir
        let repo: GitRepository
        let empty: ObjectID

        init() throws {
            dir = try TempDir("gitlayer")
            repo = try GitRepository(initBare: dir.sub("r.git"))
            empty = try repo.odb().write(.tree, [])
        }

        var path: String { dir.sub("r.git") }

        /// A tree from `empty` with `files` upserted (path → (content, mode)).
        func tree(_ files: [String: (String, GitFileMode)], from base: ObjectID? = nil) throws -> ObjectID {
            let updates = try files.map { path, v in
                TreeUpdate(path: Array(path.utf8), action: .upsert(try repo.writeBlob(Array(v.0.utf8)), mode: v.1))
            }
            return try repo.updateTree(base ?? empty, updates)
        }

        func git(_ args: String) throws -> String { try sh("git --git-dir='\(path)' \(args)") }
    }

    static let files: [String: (String, GitFileMode)] = [
        "README": ("hello\n", .blob),
        "bin/run": ("#!/bin/sh\n", .executable),
        "bin/link": ("run", .symlink),
        "src/a/deep/x.py": ("x = 1\n", .blob),
        "src/a/y.py": ("y = 2\n", .blob),
        "src/b.py": ("b = 3\n", .blob),
    ]

    @Test("the walker visits every entry parent-first with typed modes, as git ls-tree -r -t lists them")
    func walkerMatchesLsTree() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let tree = try r.tree(Self.files)
        var seen: [String] = []
        try r.repo.walkTree(tree) { e in
            seen.append("\(e.mode.octal) \(e.id.hex)\t\(String(decoding: e.path, as: UTF8.self))")
            #expect(e.path.split(separator: 0x2F).last.map(Array.init) == e.name)
            return .descend
        }
        // ls-tree pads the tree mode to six digits; the object spells it 40000.
        let oracle = try r.git("ls-tree -r -t \(tree.hex)").split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            let mode = parts[0] == "040000" ? "40000" : String(parts[0])
            let rest = parts[2]
            return "\(mode) \(rest)"
        }
        #expect(seen == oracle)
        // .skip keeps the walk out of a tree; a throw stops it and comes back out.
        var skipped: [String] = []
        try r.repo.walkTree(tree) { e in
            skipped.append(String(decoding: e.path, as: UTF8.self))
            return e.path == Array("src".utf8) ? .skip : .descend
        }
        #expect(skipped == ["README", "bin", "bin/link", "bin/run", "src"])
        var visits = 0
        do {
            try r.repo.walkTree(tree) { _ in
                visits += 1
                throw DriftError(.internal, "stop")
            }
            Issue.record("the walk swallowed the visitor's error")
        } catch let e as DriftError {
            #expect(e.message == "stop")
        }
        #expect(visits == 1)
    }

    @Test("a corrupt or missing tree is a GitError from the walker, the listing and the diff")
    func corruptTree() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let good = try r.tree(Self.files)
        let corrupt = try r.repo.odb().write(.tree, Array("100644 half-an-entry".utf8))
        let missing = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        for bad in [corrupt, missing] {
            #expect(throws: GitError.self) { try r.repo.walkTree(bad) { _ in .descend } }
            #expect(throws: GitError.self) { try r.repo.treeEntries(bad) }
            #expect(throws: GitError.self) { try r.repo.treeChanges(from: good, to: bad, limit: 10) }
            #expect(throws: GitError.self) { try r.repo.entry(at: Array("README".utf8), inTree: bad) }
        }
        // A blob is not a tree.
        let blob = try r.repo.writeBlob(Array("x".utf8))
        #expect(throws: GitError.self) { try r.repo.treeEntries(blob) }
    }

    @Test("tree changes and new objects agree with git diff-tree and git rev-list")
    func diffMatchesGit() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let old = try r.tree(Self.files)
        var updates = [
            TreeUpdate(path: Array("src/b.py".utf8), action: .remove),
            TreeUpdate(path: Array("README".utf8), action: .remove),
        ]
        updates.append(TreeUpdate(path: Array("src/a/deep/x.py".utf8),
                                  action: .upsert(try r.repo.writeBlob(Array("x = 9\n".utf8)), mode: .blob)))
        updates.append(TreeUpdate(path: Array("src/a/y.py".utf8),
                                  action: .upsert(try r.repo.writeBlob(Array("y = 2\n".utf8)), mode: .executable)))
        updates.append(TreeUpdate(path: Array("README/now-a-dir".utf8),
                                  action: .upsert(try r.repo.writeBlob(Array("d\n".utf8)), mode: .blob)))
        let removed = try r.repo.updateTree(old, Array(updates.prefix(2)))
        let new = try r.repo.updateTree(removed, Array(updates.dropFirst(2)))
        let changes = try r.repo.treeChanges(from: old, to: new, limit: 100)
        let mine = changes.map { c in
            let o = c.old.map { "\($0.mode.octal) \($0.id.hex)" } ?? "-"
            let n = c.new.map { "\($0.mode.octal) \($0.id.hex)" } ?? "-"
            return "\(o) \(n) \(String(decoding: c.path, as: UTF8.self))"
        }
        let oracle = try r.git("diff-tree -r --no-renames \(old.hex) \(new.hex)").split(separator: "\n").map { line in
            // :oldmode newmode oldid newid status\tpath
            let tab = line.split(separator: "\t", maxSplits: 1)
            let f = tab[0].dropFirst().split(separator: " ")
            let o = f[0] == "000000" ? "-" : "\(Int(f[0], radix: 8).map { String($0, radix: 8) } ?? "") \(f[2])"
            let n = f[1] == "000000" ? "-" : "\(Int(f[1], radix: 8).map { String($0, radix: 8) } ?? "") \(f[3])"
            return "\(o) \(n) \(tab[1])"
        }
        #expect(mine == oracle)
        #expect(throws: GitTooManyChanges.self) { try r.repo.treeChanges(from: old, to: new, limit: 3) }
        #expect(try r.repo.treeChanges(from: old, to: old, limit: 0).isEmpty)

        // New objects: what the new tree holds that the old one does not, at the same path.
        let objects = Set(try r.repo.newObjects(new, comparedTo: old).map(\.hex))
        let revList = try r.git("rev-list --objects \(new.hex) --not \(old.hex)")
            .split(separator: "\n").map { String($0.prefix(40)) }
        #expect(objects == Set(revList))
        #expect(try r.repo.newObjects(old, comparedTo: old).isEmpty)
        #expect(Set(try r.repo.newObjects(old, comparedTo: nil).map(\.hex))
                == Set(try r.git("rev-list --objects \(old.hex)").split(separator: "\n").map { String($0.prefix(40)) }))
    }

    @Test("entry(at:) and blob(at:) go through git_tree_entry_bypath: files, directories, absent paths")
    func bypath() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let tree = try r.tree(Self.files)
        #expect(try r.repo.blob(at: Array("src/a/y.py".utf8), inTree: tree) == Array("y = 2\n".utf8))
        #expect(try r.repo.blob(at: Array("bin/link".utf8), inTree: tree) == Array("run".utf8))
        #expect(try r.repo.blob(at: Array("src/a".utf8), inTree: tree) == nil)
        #expect(try r.repo.blob(at: Array("src/nope.py".utf8), inTree: tree) == nil)
        #expect(try r.repo.blob(at: Array("README/under-a-file".utf8), inTree: tree) == nil)
        #expect(try r.repo.entry(at: Array("src/a".utf8), inTree: tree)?.mode == .tree)
        #expect(try r.repo.entry(at: Array("bin/run".utf8), inTree: tree)?.mode == .executable)
        #expect(try r.repo.entry(at: Array("nope/deeper".utf8), inTree: tree) == nil)
    }

    @Test("GitFileMode round-trips: octal text, libgit2's trees, git's own ls-tree, and raw-mode normalising")
    func fileModes() throws {
        #expect(GitFileMode.allCases.map(\.octal) == ["40000", "100644", "100755", "120000", "160000"])
        for m in GitFileMode.allCases {
            #expect(GitFileMode(octal: Array(m.octal.utf8)) == m)
            #expect(GitFileMode(normalizing: m.rawValue) == m)
        }
        for bad in ["", "040000", "100664", "644", "100644 ", "1006440", "12e000"] {
            #expect(GitFileMode(octal: Array(bad.utf8)) == nil, "\(bad)")
        }
        // Modes some old tools wrote read as what git means by them.
        #expect(GitFileMode(normalizing: 0o100664) == .blob)
        #expect(GitFileMode(normalizing: 0o100775) == .executable)
        #expect(GitFileMode(normalizing: 0o040755) == .tree)
        #expect(GitFileMode(symlink: false, executable: false) == .blob)
        #expect(GitFileMode(symlink: false, executable: true) == .executable)
        #expect(GitFileMode(symlink: true, executable: true) == .symlink)

        // Each mode written by libgit2 reads back the same, and git agrees on the spelling.
        let r = try Repo()
        defer { r.dir.remove() }
        let commit = try r.repo.createCommit(tree: r.empty, parents: [],
                                             author: GitPerson(name: "t", email: "t@e", time: Date()),
                                             committer: GitPerson(name: "t", email: "t@e", time: Date()),
                                             message: "sub\n")
        let blob = try r.repo.writeBlob(Array("b".utf8))
        let updates: [TreeUpdate] = [
            TreeUpdate(path: Array("f".utf8), action: .upsert(blob, mode: .blob)),
            TreeUpdate(path: Array("x".utf8), action: .upsert(blob, mode: .executable)),
            TreeUpdate(path: Array("l".utf8), action: .upsert(blob, mode: .symlink)),
            TreeUpdate(path: Array("s".utf8), action: .upsert(commit, mode: .commit)),
            TreeUpdate(path: Array("d/f".utf8), action: .upsert(blob, mode: .blob)),
        ]
        let tree = try r.repo.updateTree(r.empty, updates)
        let modes = Dictionary(uniqueKeysWithValues: try r.repo.treeEntries(tree).map {
            (String(decoding: $0.name, as: UTF8.self), $0.mode)
        })
        #expect(modes == ["f": .blob, "x": .executable, "l": .symlink, "s": .commit, "d": .tree])
        let lsTree = try r.git("ls-tree \(tree.hex)").split(separator: "\n").map { line in
            let p = line.split(separator: "\t")
            return "\(p[1]) \(p[0].split(separator: " ")[0])"
        }
        #expect(lsTree.sorted() == ["d 040000", "f 100644", "l 120000", "s 160000", "x 100755"])
        // The raw tree object spells the directory 40000, as GitFileMode.octal does.
        let raw = try r.repo.odb().read(tree).1
        #expect(raw.starts(with: Array("40000 d\0".utf8)))
    }

    @Test("reference(): nil only when the ref is missing; a corrupt ref throws a GitError that is not not-found")
    func referenceLookup() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let commit = try r.repo.createCommit(tree: r.empty, parents: [],
                                             author: GitPerson(name: "t", email: "t@e", time: Date()),
                                             committer: GitPerson(name: "t", email: "t@e", time: Date()),
                                             message: "c\n")
        try r.repo.setReference("refs/heads/good", to: commit)
        #expect(try r.repo.reference("refs/heads/good") == commit)
        #expect(try r.repo.reference("refs/heads/missing") == nil)
        #expect(try r.repo.reference("refs/drift/host/0123456789") == nil)
        // A loose ref file holding garbage is a broken repository, not an absent ref.
        try write(r.path + "/refs/heads/corrupt", "not a sha\n")
        do {
            _ = try r.repo.reference("refs/heads/corrupt")
            Issue.record("a corrupt ref read as present")
        } catch let e as GitError {
            #expect(!e.isNotFound && e.code < 0, "\(e)")
            #expect(e.description.contains("refs/heads/corrupt"), "\(e)")
        }
        // A packed-refs line that is not a ref is corruption too, whatever name is asked for.
        try write(r.path + "/packed-refs", "# pack-refs with: peeled\nzzzz refs/heads/packed\n")
        #expect(throws: GitError.self) { try r.repo.reference("refs/heads/packed") }
    }

    @Test("writeAll writes every byte through short writes on a pipe, and names the file when write fails")
    func writeAllLoop() throws {
        let dir = try TempDir("gitlayer")
        defer { dir.remove() }
        // A pipe takes 64 KiB at a time: a 1 MiB write is many short writes for the reader thread.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sink = PipeSink(fd: fds[0])
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            sink.drain()
            done.signal()
        }
        try writeAll(fds[1], bytes, path: "pipe")
        close(fds[1])
        done.wait()
        #expect(sink.got == bytes)
        do {
            try writeAll(-1, Array("x".utf8), path: dir.sub("named"))
            Issue.record("a write to a bad descriptor succeeded")
        } catch let e as DriftError {
            #expect(e.message.contains("named: write failed"), "\(e.message)")
        }
        try writeAll(-1, [], path: "empty")
    }
}

/// Reads a pipe to its end on another thread (the test's writer blocks until it does).
private final class PipeSink: @unchecked Sendable {
    let fd: Int32
    var got: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    func drain() {
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += buf[0..<n]
        }
        close(fd)
    }
}

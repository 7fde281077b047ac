import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A watch batch hashes a line per drifted path (the journal fingerprint, the snapshot's
/// summaries) and asks every drifted small file's `SecretScope`: those are written as bytes
/// in place now (issue 28, a batch O(change)). Each is compared here with the String-built
/// derivation it replaced, kept below as it was, on random inputs: same digests, same folds,
/// same scopes.
@Suite("A batch's per-path lines, written as bytes")
struct BatchLinesTests {
    // MARK: the derivations as they were

    /// The fingerprint (version 3) built from Strings: per chunk (a directory's changes, small
    /// directories together: ended where the parent changes once it holds 256), its count and
    /// the SHA-256 of its lines.
    static func referenceFingerprint(_ changes: [FileChange], pip: [PipChange]) throws -> Digest {
        func parent(_ p: [UInt8]) -> [UInt8] { Array(p[..<((p.lastIndex(of: 0x2F) ?? -1) + 1)]) }
        var chunks: [[FileChange]] = []
        for c in changes {
            if let last = chunks.last?.last,
               parent(last.path) == parent(c.path) || chunks[chunks.count - 1].count < 256 {
                chunks[chunks.count - 1].append(c)
            } else {
                chunks.append([c])
            }
        }
        var s = "journal-fp/3\n"
        for chunk in chunks {
            var lines = ""
            for c in chunk {
                let digest = c.new?.digest?.hex ?? "-"
                let mode = c.new?.gitMode?.octal ?? "-"
                lines += "\(c.change.rawValue) \(PathBytes.escape(c.path)) \(digest) \(mode) \(c.unstable)\n"
            }
            s += "\(chunk.count) \(try SHA256Hasher.digest(Array(lines.utf8)).hex)\n"
        }
        for p in pip where !p.allowed { s += "pip \(SnapshotPip(p).line)\n" }
        return try SHA256Hasher.digest(Array(s.utf8))
    }

    static func referenceSummary(_ files: [FileChange], dir: [UInt8]) throws -> SnapshotSummary {
        let hasher = try SHA256Hasher()
        var bytes: Int64 = 0
        for c in files {
            bytes += c.new?.size ?? 0
            var line = Array(PathBytes.escape(Array(c.path[dir.count...])).utf8)
            line += Array(" \(c.new?.gitMode?.octal ?? "-") \(c.new?.digest?.hex ?? "-")\n".utf8)
            try hasher.update(line)
        }
        return SnapshotSummary(count: files.count, bytes: bytes, digest: try hasher.finish())
    }

    /// `SnapshotFold.init` as round 10 left it: (kept, summaries).
    static func referenceFold(_ withheld: [(FileChange, WithholdReason)],
                              others: Int) throws -> ([(FileChange, WithholdReason)], [SnapshotEntry]) {
        struct Key: Hashable {
            var dir: [UInt8]
            var change: ChangeKind
            var fileClass: FileClass
        }
        func key(_ k: Int, _ length: Int) -> Key {
            let c = withheld[k].0
            return Key(dir: Array(c.path[..<length]), change: c.change, fileClass: c.fileClass)
        }
        var foldable: [(index: Int, slashes: [Int])] = []
        for (k, (c, reason)) in withheld.enumerated() where SnapshotSummary.foldable(c, reason) {
            let s = c.path.indices.filter { c.path[$0] == 0x2F }
            if !s.isEmpty { foldable.append((k, s)) }
        }
        var into = [Int?](repeating: nil, count: withheld.count)
        var byParent: [Key: [Int]] = [:]
        for f in foldable { byParent[key(f.index, f.slashes.last! + 1), default: []].append(f.index) }
        for (key, members) in byParent where members.count > SnapshotSummary.threshold {
            for k in members { into[k] = key.dir.count }
        }
        func entryCount() -> Int {
            var keys = Set<Key>()
            var own = withheld.count
            for f in foldable {
                guard let n = into[f.index] else { continue }
                own -= 1
                keys.insert(key(f.index, n))
            }
            return others + own + keys.count
        }
        var depth = foldable.map(\.slashes.count).max() ?? 0
        while depth >= 1 && entryCount() > SnapshotSummary.maxEntries {
            for f in foldable where f.slashes.count >= depth {
                let n = f.slashes[depth - 1] + 1
                if (into[f.index] ?? Int.max) > n { into[f.index] = n }
            }
            depth -= 1
        }
        var groups: [Key: [Int]] = [:]
        for f in foldable {
            if let n = into[f.index] { groups[key(f.index, n), default: []].append(f.index) }
        }
        var made: [(Key, SnapshotEntry)] = []
        for (key, members) in groups {
            let files = members.map { withheld[$0].0 }.sorted { PathBytes.less($0.path, $1.path) }
            made.append((key, SnapshotEntry(change: key.change, fileClass: key.fileClass,
                                            firstSeen: files.map(\.firstSeen).min()?.wholeSeconds ?? Date(),
                                            path: key.dir,
                                            recorded: .summary(try referenceSummary(files, dir: key.dir)))))
        }
        let kept = withheld.indices.filter { into[$0] == nil }.map { withheld[$0] }
        made.sort { a, b in
            if a.0.dir != b.0.dir { return PathBytes.less(a.0.dir, b.0.dir) }
            if a.0.change != b.0.change { return a.0.change.rawValue < b.0.change.rawValue }
            return a.0.fileClass.rawValue < b.0.fileClass.rawValue
        }
        return (kept, made.map(\.1))
    }

    /// `SecretScope(path:)` as the String-per-component way computes it.
    static func referenceScope(_ path: [UInt8]) -> SecretScope {
        let parts = path.split(separator: 0x2F).map { String(decoding: $0, as: UTF8.self).lowercased() }
        guard let name = parts.last else { return .code }
        if parts.dropLast().contains(where: SecretScope.testDirectories.contains) || SecretScope.isTestFile(name) {
            return .testFixture
        }
        return .code
    }

    // MARK: random inputs

    static func pick<T>(_ xs: [T], _ rng: inout SeededRNG) -> T { xs[Int(rng.next() % UInt64(xs.count))] }

    static let names = ["a", "b", "tests", "Test", "x y", "caf\u{e9}", "%41", "t\u{1}", "deep", "conftest.py",
                        "test_x.py", "x_test.go", "x_tests.rs", "y.test.js", "y.Spec.ts", ".hidden", "TESTDATA",
                        "m.bin", "part0001", "part0002", "__tests__", "spec.", "_test.py", "a.b.c", ""]

    static func path(_ rng: inout SeededRNG) -> [UInt8] {
        let depth = 1 + Int(rng.next() % 4)
        return Array((0..<depth).map { _ in pick(names, &rng) }.joined(separator: "/").utf8)
    }

    static func state(_ rng: inout SeededRNG) -> EntryState? {
        switch rng.next() % 6 {
        case 0: return nil
        case 1: return EntryState(kind: .symlink, executable: false, size: 3, digest: nil, target: Array("x".utf8))
        case 2: return EntryState(kind: .directory, executable: false, size: 0, digest: nil)
        default:
            let d = rng.next() % 3 == 0 ? nil : Digest(words: rng.next() % 4, rng.next(), rng.next(), rng.next())
            return EntryState(kind: .regular, executable: rng.next() % 4 == 0, size: Int64(rng.next() % 5000),
                              digest: d)
        }
    }

    static func change(_ path: [UInt8], _ rng: inout SeededRNG) -> FileChange {
        var c = FileChange(path: path, change: pick(ChangeKind.allCases, &rng),
                           fileClass: pick([.code, .config, .data, .data], &rng), secret: rng.next() % 9 == 0,
                           old: state(&rng), new: state(&rng),
                           firstSeen: Date(timeIntervalSince1970: 1_800_000_000 + Double(rng.next() % 10_000) / 7),
                           unstable: rng.next() % 5 == 0)
        if rng.next() % 11 == 0 { c.secrecy = .content }
        return c
    }

    // MARK: tests

    @Test(arguments: [3, 17, 101])
    func fingerprintMatchesTheStrings(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        for n in [0, 1, 7, 900, 3_000] {
            var changes = (0..<n).map { _ in Self.change(Self.path(&rng), &rng) }
            changes.sort { PathBytes.less($0.path, $1.path) }
            let new = try Journal.fingerprint(changes, pip: [])
            #expect(new == (try Self.referenceFingerprint(changes, pip: [])), "\(n) changes, seed \(seed)")
        }
        for m in GitFileMode.allCases {
            var lines = HashedLines(try SHA256Hasher())
            lines.append(mode: m)
            #expect(try lines.finish() == (try SHA256Hasher.digest(Array(m.octal.utf8))))
        }
    }

    /// Directories over the threshold (folded), under it (not), mixed change kinds and
    /// classes inside one directory, secrets and code among them, and a snapshot over the
    /// entry cap (folded by depth): the fold and every summary's digest are the same.
    @Test(arguments: [5, 23])
    func foldMatchesTheStrings(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        let threshold = SnapshotSummary.threshold
        var folded = 0
        for (dirs, perDir, others) in [(3, threshold + 150, 0), (4, threshold + 200, 5), (30, 300, 0),
                                       (12, 1_900, SnapshotSummary.maxEntries - 300)] {
            var withheld: [(FileChange, WithholdReason)] = []
            for d in 0..<dirs {
                let dir = d % 3 == 0 ? "m/p\(d)" : "m/q/r\(d)"
                for k in 0..<perDir {
                    let sub = rng.next() % 50 == 0 ? "/s\(k % 3)" : ""
                    let p = Array("\(dir)\(sub)/f\(k)\(rng.next() % 97 == 0 ? " %x" : "").bin".utf8)
                    var c = Self.change(p, &rng)
                    // Most of a directory shares one change and class, so groups pass the threshold.
                    if rng.next() % 64 != 0 {
                        c.change = d % 2 == 0 ? .added : .modified
                        c.fileClass = .data
                        c.secrecy = .none
                    }
                    let reason = DriftTreeBuilder.withholdReason(c) ?? .changedWhileRead
                    withheld.append((c, reason))
                }
            }
            for _ in 0..<50 {
                let c = Self.change(Self.path(&rng), &rng)
                withheld.append((c, DriftTreeBuilder.withholdReason(c) ?? .overReadLimit))
            }
            withheld.sort { PathBytes.less($0.0.path, $1.0.path) }
            if rng.next() % 2 == 0 { withheld.swapAt(3, withheld.count - 3) }
            let fold = try SnapshotFold(withheld, others: others)
            let (kept, summaries) = try Self.referenceFold(withheld, others: others)
            #expect(fold.summaries == summaries, "\(dirs) × \(perDir), seed \(seed)")
            #expect(fold.kept.map(\.0.path) == kept.map(\.0.path))
            #expect(fold.kept.map(\.1) == kept.map(\.1))
            folded += summaries.count
        }
        #expect(folded >= 10)
    }

    @Test func scopeMatchesTheStrings() {
        var rng = SeededRNG(seed: 77)
        var fixtures = 0
        for _ in 0..<20_000 {
            var p = Self.path(&rng)
            if rng.next() % 5 == 0 { p = [0x2F] + p + [0x2F] }
            if rng.next() % 7 == 0 { p = p.map { $0 == 0x61 ? 0x41 : $0 } }
            let expected = Self.referenceScope(p)
            #expect(SecretScope(path: p) == expected, "\(PathBytes.escape(p))")
            if expected == .testFixture { fixtures += 1 }
        }
        #expect(fixtures > 1_000)
    }
}

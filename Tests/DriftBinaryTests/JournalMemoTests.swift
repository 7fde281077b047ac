import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A watcher's records reuse what the last one derived per group of drifted files
/// (`JournalMemo`: folded directories' summaries, the fingerprint's chunks). Here one memo
/// follows random batches — members added, removed and edited in folded groups, first
/// sightings moved, files turned secret or code, a directory crossing the threshold, a
/// snapshot over the entry cap (the depth fold) — and each batch's fold and fingerprint are
/// compared with the ones made from scratch and with the String-built references.
@Suite("The journal's per-group memo")
struct JournalMemoTests {
    typealias Withheld = [(FileChange, WithholdReason)]

    static func dataChange(_ path: String, _ rng: inout SeededRNG) -> FileChange {
        var c = BatchLinesTests.change(Array(path.utf8), &rng)
        c.change = .added
        c.fileClass = .data
        c.secrecy = .none
        c.unstable = false
        return c
    }

    /// Directories over and under the threshold, a few of another change or class inside
    /// them, files directly in the root and random others (secrets, code among them).
    static func start(_ rng: inout SeededRNG, dirs: Int, perDir: Int) -> [FileChange] {
        var out: [FileChange] = []
        for d in 0..<dirs {
            let dir = d % 3 == 0 ? "m/p\(d)" : "m/q/r\(d)"
            let n = d % 4 == 3 ? perDir / 3 : perDir
            for k in 0..<n {
                var c = dataChange("\(dir)/f\(k)\(rng.next() % 97 == 0 ? " %x" : "").bin", &rng)
                if rng.next() % 64 == 0 { c.change = .modified }
                out.append(c)
            }
        }
        for k in 0..<30 { out.append(BatchLinesTests.change(BatchLinesTests.path(&rng) + Array("\(k)".utf8), &rng)) }
        for k in 0..<5 { out.append(dataChange("root\(k).bin", &rng)) }
        return out.sorted { PathBytes.less($0.path, $1.path) }
    }

    /// One batch's edits: some members edited, some removed, some added, and now and then a
    /// member turned secret, code, unstable, or seen earlier.
    static func batch(_ changes: [FileChange], _ rng: inout SeededRNG) -> [FileChange] {
        var out = changes
        for _ in 0..<Int(rng.next() % 4) {
            guard !out.isEmpty else { break }
            let i = Int(rng.next() % UInt64(out.count))
            switch rng.next() % 9 {
            case 0: out.remove(at: i)
            case 1: out[i].new?.digest = Digest(words: rng.next(), rng.next(), 1, 2)
            case 2: out[i].firstSeen = Date(timeIntervalSince1970: 1_700_000_000 + Double(rng.next() % 100))
            case 3: out[i].secrecy = .name
            case 4: out[i].fileClass = .code
            case 5: out[i].unstable.toggle()
            case 6: out[i].new?.size += 1
            case 7:
                // Moved to another directory under its own name (same content, same sighting).
                let j = Int(rng.next() % UInt64(out.count))
                let to = out[j].path.prefix(through: out[j].path.lastIndex(of: 0x2F) ?? -1)
                let name = out[i].path.suffix(from: (out[i].path.lastIndex(of: 0x2F) ?? -1) + 1)
                let moved = Array(to) + Array(name)
                if !out.contains(where: { $0.path == moved }) { out[i].path = moved }
            default:
                let dir = out[i].path.prefix { $0 != 0x2F }
                out.append(dataChange(String(decoding: dir, as: UTF8.self) + "/n\(rng.next() % 10_000).bin", &rng))
            }
        }
        if rng.next() % 9 == 0 {
            // A directory grows past the threshold at once.
            for k in 0..<(SnapshotSummary.threshold + 5) { out.append(dataChange("m/grown/g\(k)", &rng)) }
        }
        return out.sorted { PathBytes.less($0.path, $1.path) }
    }

    static func withheld(_ changes: [FileChange]) -> Withheld {
        changes.compactMap { c in DriftTreeBuilder.withholdReason(c).map { (c, $0) } }
    }

    static func compare(_ withheld: Withheld, others: Int, memo: JournalMemo, _ what: String) throws {
        let memoed = try SnapshotFold(withheld, others: others, memo: memo)
        let scratch = try SnapshotFold(withheld, others: others)
        let (kept, summaries) = try BatchLinesTests.referenceFold(withheld, others: others)
        #expect(memoed.summaries == scratch.summaries, "\(what)")
        #expect(memoed.summaries == summaries, "\(what)")
        #expect(memoed.kept.map(\.0.path) == kept.map(\.0.path), "\(what)")
        #expect(memoed.kept.map(\.1) == kept.map(\.1), "\(what)")
        #expect(memoed.kept.map(\.0.secrecy) == kept.map(\.0.secrecy), "\(what)")
    }

    @Test(arguments: [1, 8, 40])
    func foldWithTheMemoIsTheFoldFromScratch(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        let threshold = SnapshotSummary.threshold
        for (dirs, perDir, others) in [(5, threshold + 40, 0), (9, 2_400, SnapshotSummary.maxEntries - 500)] {
            let memo = JournalMemo()
            var changes = Self.start(&rng, dirs: dirs, perDir: perDir)
            for step in 0..<12 {
                try Self.compare(Self.withheld(changes), others: others, memo: memo,
                                 "\(dirs) × \(perDir), seed \(seed), step \(step)")
                changes = Self.batch(changes, &rng)
            }
        }
    }

    /// A whole fold found again from the fingerprint's pass (`Journal.fingerprintAndFold`):
    /// batches that leave the foldable changes alone (a code edit) reuse it, the others fold
    /// again; each is the reference fold of the same withheld list.
    @Test(arguments: [4, 12])
    func wholeFoldFromTheFingerprintPass(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        let threshold = SnapshotSummary.threshold
        var reused = 0
        for (dirs, perDir, others) in [(5, threshold + 40, 0), (9, 2_400, SnapshotSummary.maxEntries - 500)] {
            let memo = JournalMemo()
            var changes = Self.start(&rng, dirs: dirs, perDir: perDir)
            for step in 0..<10 {
                let (_, foldable) = try Journal.fingerprintAndFold(changes, pip: [], memo: memo)
                var list = WithheldChanges(changes)
                var included = 0
                for i in changes.indices {
                    if let why = DriftTreeBuilder.withholdReason(changes[i]) {
                        list.append(i, why)
                    } else if i % 5 == 0 {
                        list.append(i, .changedWhileRead)
                    } else {
                        included += 1
                    }
                }
                let besides = list.count + others + included
                if memo.whole?.holds(try #require(foldable), entries: besides) == true { reused += 1 }
                let fold = try SnapshotFold(list, others: others + included, memo: memo, foldable: foldable)
                let (kept, summaries) = try BatchLinesTests.referenceFold(list.copied, others: others + included)
                let what = "\(dirs) × \(perDir), seed \(seed), step \(step)"
                #expect(fold.summaries == summaries, "\(what)")
                #expect(fold.kept.map(\.0.path) == kept.map(\.0.path), "\(what)")
                #expect(fold.kept.map(\.1) == kept.map(\.1), "\(what)")
                if step % 2 == 0 {
                    changes = Self.batch(changes, &rng)
                } else if let i = changes.indices.first(where: { changes[$0].fileClass == .code }) {
                    // A code edit: nothing the fold reads moved.
                    changes[i].new = EntryState(kind: .regular, executable: false, size: 2,
                                                digest: Digest(words: rng.next(), 6, 7, 8))
                }
            }
        }
        #expect(reused >= 8)
    }

    @Test(arguments: [2, 9])
    func fingerprintWithTheMemoIsTheFingerprintFromScratch(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        let memo = JournalMemo()
        var changes = Self.start(&rng, dirs: 6, perDir: 700)
        var seen = Set<Digest>()
        for step in 0..<15 {
            let memoed = try Journal.fingerprint(changes, pip: [], memo: memo)
            #expect(memoed == (try Journal.fingerprint(changes, pip: [])), "seed \(seed), step \(step)")
            #expect(memoed == (try BatchLinesTests.referenceFingerprint(changes, pip: [])), "step \(step)")
            seen.insert(memoed)
            changes = Self.batch(changes, &rng)
            // And one line the fingerprint reads, each batch.
            let i = Int(rng.next() % UInt64(changes.count))
            changes[i].new = EntryState(kind: .regular, executable: false, size: 1,
                                        digest: Digest(words: rng.next(), 3, 4, 5))
        }
        #expect(seen.count == 15)
    }

    /// The code the tree builder withholds for a reason of its own (a secret's bytes, a moving
    /// file) keeps that reason and its raised secrecy through the places-only withheld list.
    @Test func withheldPlacesKeepReasonsAndChanges() {
        var rng = SeededRNG(seed: 5)
        let changes = Self.start(&rng, dirs: 2, perDir: 20)
        var list = WithheldChanges(changes)
        var expected: Withheld = []
        for i in changes.indices where i % 3 != 1 {
            var c = changes[i]
            switch i % 5 {
            case 0:
                c.secrecy = .content
                list.append(i, .secretContent, as: c)
                expected.append((c, .secretContent))
            case 1:
                list.append(i, .changedWhileRead)
                expected.append((c, .changedWhileRead))
            default:
                list.append(i, .notCode(c.fileClass))
                expected.append((c, .notCode(c.fileClass)))
            }
        }
        let copied = list.copied
        #expect(copied.map(\.0.path) == expected.map(\.0.path))
        #expect(copied.map(\.1) == expected.map(\.1))
        #expect(copied.map(\.0.secrecy) == expected.map(\.0.secrecy))
        #expect(list.anyRetried)
    }
}

import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The journal's share of a watch batch from its splice (issue 28 round 13): the fingerprint's
/// chunks kept between the hunks and made again around them, the fold found again from the
/// chunks' checks. Over many batches in a row (lists edited in place by `mergeScoped(into:)`,
/// positions marked, steps skipped, splices dropped), each batch's fingerprint, fold check,
/// chunks and snapshot fold are compared with those made without the splice, without a memo,
/// and with the String-built references: directories around the chunk minimum (256) and the
/// fold's threshold, names around `/` and not UTF-8, the depth fold's cap crossed both ways.
@Suite("The journal's share of a watch batch, from its splice")
struct JournalSpliceTests {
    /// Names that sort around `/` (`-` before it, `0` after it) and are not UTF-8.
    static let names: [[UInt8]] = [[0x61], [0x61, 0x2D, 0x62], [0x61, 0x30], [0xFF], [0x80, 0x61], [0xC3, 0x28],
                                   [0x2E, 0x65, 0x6E, 0x76], [0x61, 0x20, 0x25, 0x78]]
    /// Directory sizes around the chunk minimum and the fold's threshold.
    static let sizes = [1, 2, 40, 255, 256, 257, 300, 511, 999, 1_000, 1_001, 1_020]

    static func pick<T>(_ all: [T], _ rng: inout SeededRNG) -> T { all[Int(rng.next() % UInt64(all.count))] }

    static func dir(_ rng: inout SeededRNG) -> [UInt8] {
        var d = Array("m".utf8)
        for _ in 0...(rng.next() % 3) { d += [0x2F] + pick(names, &rng) }
        return d
    }

    /// A change at `path`: mostly data (folded), some config, code, secrets, bytecode.
    static func change(_ path: [UInt8], _ rng: inout SeededRNG) -> FileChange {
        if rng.next() % 12 == 0 { return BatchLinesTests.change(path, &rng) }
        var c = JournalMemoTests.dataChange(String(decoding: [], as: UTF8.self), &rng)
        c.path = path
        if rng.next() % 9 == 0 { c.fileClass = .config }
        return c
    }

    static func files(in dir: [UInt8], _ n: Int, _ rng: inout SeededRNG) -> [FileChange] {
        (0..<n).map { k in change(dir + [0x2F] + pick(names, &rng) + Array("\(k)".utf8), &rng) }
    }

    static func sorted(_ changes: [FileChange]) -> [FileChange] {
        var seen = Set<[UInt8]>()
        return changes.sorted { bytesLess($0.path, $1.path) }.filter { seen.insert($0.path).inserted }
    }

    static func start(_ rng: inout SeededRNG) -> [FileChange] {
        var out: [FileChange] = []
        for _ in 0..<(6 + rng.next() % 6) { out += files(in: dir(&rng), pick(sizes, &rng), &rng) }
        for k in 0..<3 { out.append(change(Array("root\(k)".utf8), &rng)) }
        return sorted(out)
    }

    /// One batch's edit, made as the watcher makes it: a scope (paths and trees of the list, a
    /// new tree now and then) rescanned, what it found merged in place; the splice it makes.
    static func batch(_ list: inout [FileChange], _ rng: inout SeededRNG, from: UInt64) -> ChangeSplice {
        var scope = ScanScope()
        var part: [FileChange] = []
        for _ in 0...(rng.next() % 3) {
            let i = Int(rng.next() % UInt64(max(list.count, 1)))
            switch rng.next() % 7 {
            case 0 where !list.isEmpty:
                // A directory rescanned: members kept, edited, gone, a few new (or grown past the threshold).
                let path = list[i].path
                let d = Array(path[..<max(0, FoldRuns.lastSlash(path))])
                guard !d.isEmpty else { continue }
                scope.trees.insert(d)
                let grow = rng.next() % 5 == 0 ? 1_001 : Int(rng.next() % 4)
                part += files(in: d, grow, &rng)
            case 1:
                let d = dir(&rng) + Array("new\(rng.next() % 50)".utf8)
                scope.trees.insert(d)
                part += files(in: d, pick(sizes, &rng), &rng)
            case 2 where !list.isEmpty:
                // A big directory shrinks below the threshold.
                let path = list[i].path
                let d = Array(path[..<max(0, FoldRuns.lastSlash(path))])
                guard !d.isEmpty else { continue }
                scope.trees.insert(d)
            case 3 where !list.isEmpty:
                // One file added beside another: last of its directory (a chunk may end right after it).
                let path = list[rng.next() % 3 == 0 ? list.count - 1 : i].path
                let slash = FoldRuns.lastSlash(path)
                let added = slash < 0 || rng.next() % 2 == 0 ? path + [0x7E] : Array(path[...slash]) + [0xFF, 0xFF]
                scope.paths.insert(added)
                part.append(change(added, &rng))
            default:
                guard !list.isEmpty else { continue }
                scope.paths.insert(list[i].path)
            }
        }
        let shrink = rng.next() % 3 == 0
        for c in list where scope.contains(c.path) {
            if shrink && rng.next() % 8 == 0 { continue }
            if rng.next() % 10 == 0 { continue }
            var e = c
            switch rng.next() % 6 {
            case 0: e.new?.digest = Digest(words: rng.next(), 1, 2, 3)
            case 1: e.firstSeen = Date(timeIntervalSince1970: 1_700_000_000 + Double(rng.next() % 100))
            case 2: e.fileClass = e.fileClass == .code ? .data : .code
            default: break
            }
            part.append(e)
        }
        part = sorted(part.filter { scope.contains($0.path) })
        let before = list.count
        let edit = mergeScoped(into: &list, part, scope, path: \.path)
        var splice = ChangeSplice(dropped: edit.dropped, insertedBefore: edit.insertedBefore,
                                  oldCount: before, from: from, to: from + 1)
        if rng.next() % 4 == 0 && !list.isEmpty {
            // Secret verdicts judged again: positions the splice did not see, marked.
            var marked: [Int] = []
            for _ in 0..<(1 + rng.next() % 3) {
                let i = Int(rng.next() % UInt64(list.count))
                list[i].secrecy = list[i].secrecy == .none ? .name : .none
                marked.append(i)
            }
            splice = splice.marking(marked)
        }
        return splice
    }

    static func chunks(_ memo: JournalMemo) -> [JournalMemo.Chunk] {
        guard let c = memo.takeChunks() else { return [] }
        memo.putChunks(c)
        return c.list
    }

    static func same(_ a: [JournalMemo.Chunk], _ b: [JournalMemo.Chunk]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy {
            $0.start == $1.start && $0.count == $1.count && $0.check == $1.check && $0.digest == $1.digest
                && $0.fold == $1.fold
        }
    }

    @Test(arguments: [1, 2, 3, 5, 8, 13])
    func splicedIsFromScratch(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        var list = Self.start(&rng)
        let spliced = JournalMemo()
        let plain = JournalMemo()
        var generation: UInt64 = 1
        _ = try Journal.fingerprintAndFold(list, pip: [], memo: spliced, splice: nil, generation: generation)
        var usedSplice = 0
        var memoGeneration = generation
        for step in 0..<40 {
            let splice = Self.batch(&list, &rng, from: generation)
            generation += 1
            let what = "seed \(seed), step \(step), \(list.count) changes, \(splice.hunks.count) hunks"
            #expect(splice.to == generation)
            // A step skipped (a record without the journal's fingerprint), a splice dropped.
            if rng.next() % 7 == 0 { continue }
            let given = rng.next() % 9 == 0 ? nil : splice
            if given != nil && memoGeneration == splice.from { usedSplice += 1 }
            memoGeneration = generation
            let a = try Journal.fingerprintAndFold(list, pip: [], memo: spliced, splice: given, generation: generation)
            let b = try Journal.fingerprintAndFold(list, pip: [], memo: plain, splice: nil, generation: nil)
            let c = try Journal.fingerprintAndFold(list, pip: [], memo: nil)
            #expect(a.fingerprint == b.fingerprint, "\(what)")
            #expect(a.fingerprint == c.fingerprint, "\(what)")
            #expect(a.fingerprint == (try BatchLinesTests.referenceFingerprint(list, pip: [])), "\(what)")
            #expect(a.foldable == b.foldable, "\(what)")
            #expect(Self.same(Self.chunks(spliced), Self.chunks(plain)), "\(what)")
            // The fold from the splice's check, others around the depth fold's cap, crossed both ways.
            let others = rng.next() % 2 == 0 ? 0 : SnapshotSummary.maxEntries - list.count / 2
                + Int(rng.next() % 40) - 20
            var withheld = WithheldChanges(list)
            var included = 0
            for i in list.indices {
                if let why = DriftTreeBuilder.withholdReason(list[i]) {
                    withheld.append(i, why)
                } else {
                    included += 1
                }
            }
            let fold = try SnapshotFold(withheld, others: others + included, memo: spliced, foldable: a.foldable)
            let (kept, summaries) = try BatchLinesTests.referenceFold(withheld.copied, others: others + included)
            #expect(fold.summaries == summaries, "\(what)")
            #expect(fold.kept.map(\.0.path) == kept.map(\.0.path), "\(what)")
            #expect(fold.kept.map(\.1) == kept.map(\.1), "\(what)")
        }
        #expect(usedSplice >= 10)
    }

    /// A record skipped (the drift last recorded, a watcher's start-up) keeps the fold it would
    /// have made (`Journal.keepFold`): the next record finds it whole, and it is the fold of the
    /// withheld list that record builds (some withheld for another reason, the code in the tree).
    @Test(arguments: [21, 34])
    func keptFoldIsTheRecordsFold(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        var found = 0
        for round in 0..<6 {
            var list = Self.start(&rng)
            if round % 2 == 1 {
                // Over the depth fold's cap: the count besides the fold decides it.
                list += Self.files(in: Array("z/big".utf8), SnapshotSummary.maxEntries + 10, &rng)
                list = Self.sorted(list)
            }
            let memo = JournalMemo()
            let (_, foldable) = try Journal.fingerprintAndFold(list, pip: [], memo: memo, generation: 1)
            try Journal.keepFold(list, memo: memo, foldable)
            var withheld = WithheldChanges(list)
            var included = 0
            for i in list.indices {
                if let why = DriftTreeBuilder.withholdReason(list[i]) {
                    withheld.append(i, why)
                } else if rng.next() % 6 == 0 {
                    withheld.append(i, .changedWhileRead)
                } else {
                    included += 1
                }
            }
            if memo.whole?.holds(try #require(foldable), entries: withheld.count + included) == true { found += 1 }
            let fold = try SnapshotFold(withheld, others: included, memo: memo, foldable: foldable)
            let (kept, summaries) = try BatchLinesTests.referenceFold(withheld.copied, others: included)
            #expect(fold.summaries == summaries, "seed \(seed), round \(round)")
            #expect(fold.kept.map(\.0.path) == kept.map(\.0.path), "seed \(seed), round \(round)")
            #expect(fold.kept.map(\.1) == kept.map(\.1), "seed \(seed), round \(round)")
        }
        #expect(found == 6)
    }

    /// The fold's check made from chunks is the one made member by member, however chunked.
    @Test func sequenceCheckOfPiecesIsOfTheWhole() {
        var rng = SeededRNG(seed: 7)
        let members = (0..<500).map { _ in MemberCheck(count: 1, hash: Int(truncatingIfNeeded: rng.next())) }
        var whole = SequenceCheck()
        for m in members { whole.append(m) }
        for _ in 0..<20 {
            var joined = SequenceCheck()
            var piece = SequenceCheck()
            for m in members {
                piece.append(m)
                if rng.next() % 37 == 0 {
                    joined.append(piece)
                    piece = SequenceCheck()
                }
            }
            joined.append(piece)
            #expect(joined == whole)
        }
        var swapped = SequenceCheck()
        for m in [members[1], members[0]] + members.dropFirst(2) { swapped.append(m) }
        #expect(swapped.check != whole.check)
    }
}

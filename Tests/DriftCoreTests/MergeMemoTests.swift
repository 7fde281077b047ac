import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The watcher's merge memo (`DerivationMemo`, issue 28 round 12) keeps a keyed hash, a first
/// sighting and a fold entry per drifted path instead of the change and its item: merges that
/// reuse it write what a merge without one writes, over random sequences of changed inputs and
/// loaded states (paths with non-UTF-8 bytes, folded and unfolded directories, exports).
@Suite struct MergeMemoTests {
    typealias SplitMix = StateFoldTests.SplitMix

    /// One random edit of a change: every field the key covers, one at a time.
    static func edit(_ c: inout FileChange, _ rng: inout SplitMix) {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: c.change = c.change == .added ? .modified : .added
        case 1: c.fileClass = c.fileClass == .data ? .config : .data
        case 2: c.secrecy = c.secrecy == .none ? .content : .none
        case 3: c.new?.digest = Digest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 4: c.new?.executable.toggle()
        case 5: c.firstSeen = c.firstSeen.addingTimeInterval(61)
        case 6: c.unstable.toggle()
        case 7: c.old = EntryState(kind: .regular, executable: false, size: 9)
        default: c.overReadLimit.toggle()
        }
    }

    /// The watcher hands a recorded list (its verdicts set) to the next record: a verdict whose
    /// secret is gone must be cleared, not kept, and one still true set again.
    @Test("SecretIndex.flag judges a handed-back list afresh: a content verdict whose secret is gone is cleared")
    func flagClearsStaleVerdicts() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let value = Array("Zq8vX2mN4pL7rT1wY6kBc3Hd".utf8)
        let body = Array("print(\"Zq8vX2mN4pL7rT1wY6kBc3Hd\")\n".utf8)
        try Data(body).write(to: URL(fileURLWithPath: dir.sub("leak.py")))
        let new = EntryState(kind: .regular, executable: false, size: Int64(body.count),
                             digest: try SHA256Hasher.digest(body))
        let change = FileChange(path: Array("leak.py".utf8), change: .added, fileClass: .code, secret: false,
                                old: nil, new: new, firstSeen: StateFoldTests.now)
        let manifest = Manifest(commit: "0", root: Array(dir.path.utf8), policySHA256: try SHA256Hasher.digest([]),
                                entries: [])
        func index(_ vars: [SecretEnvironment.Variable]) throws -> SecretIndex {
            try SecretIndex(walk: TreeWalk(entries: [], issues: [], unreadableDirectories: []), manifest: manifest,
                            changes: [], reader: FileReader(root: Array(dir.path.utf8)),
                            environment: SecretEnvironment(variables: vars))
        }
        let walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
        let reader = FileReader(root: Array(dir.path.utf8))
        var list = [change]
        let known = try index([SecretEnvironment.Variable(name: Array("API_TOKEN".utf8), value: value, origin: .drift)])
        known.flag(&list, walk: walk, reader: reader, sizeLimit: 1 << 20)
        #expect(list[0].secrecy == .content)
        // Handed back and judged again with the secret still known: still withheld.
        known.flag(&list, walk: walk, reader: reader, sizeLimit: 1 << 20)
        #expect(list[0].secrecy == .content)
        // The value is no longer a secret anyone knows: the recorded verdict does not stick.
        try index([]).flag(&list, walk: walk, reader: reader, sizeLimit: 1 << 20)
        #expect(list[0].secrecy == .none)
    }

    @Test("a change's key is equal for an equal change and differs when any field does")
    func keyFollowsEveryField() throws {
        var rng = SplitMix(state: 5)
        for p in StateFoldTests.paths(400, &rng) {
            let c = try StateFoldTests.change(p, &rng)
            let same = c
            #expect(c.inputKey() == same.inputKey())
            var d = c
            Self.edit(&d, &rng)
            #expect(!d.sameInput(c))
            #expect(d.inputKey() != c.inputKey())
        }
    }

    /// `handBack`: the next batch's input is the merged list (as the watcher hands it), else
    /// the list as scanned again (first sightings as a scan gives them).
    @Test("merges reusing the memo write what merges without one write: random batches",
          arguments: [true, false])
    func memoEqualsFresh(handBack: Bool) throws {
        for seed in UInt64(1)...6 {
            var rng = SplitMix(state: seed)
            let n = [700, 2_600, 21_000][Int(seed % 3)]
            var paths = StateFoldTests.paths(n, &rng)
            var changes = try paths.map { try StateFoldTests.change($0, &rng) }
            var state = DriftState(commit: String(repeating: "c", count: 40))
            state.items = StateFoldTests.loaded(paths, &rng)
            let memo = DerivationMemo()
            for round in 0..<6 {
                var fresh = state
                var freshChanges = changes
                try fresh.merge(&freshChanges)
                var memoed = state
                var memoChanges = changes
                try memoed.merge(&memoChanges, memo: memo)
                let ctx = "seed \(seed) round \(round)"
                #expect(StateFoldTests.normalised(memoed.items) == StateFoldTests.normalised(fresh.items), "\(ctx)")
                #expect(memoChanges.map(\.firstSeen) == freshChanges.map(\.firstSeen), "\(ctx)")
                state = memoed
                if handBack { changes = memoChanges }
                // The next batch: a few changes edited, added or gone; sometimes the loaded state
                // changed under the memo (an export), as a run beside the watcher does.
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    let k = Int.random(in: 0..<changes.count, using: &rng)
                    Self.edit(&changes[k], &rng)
                }
                if Bool.random(using: &rng) {
                    let gone = Int.random(in: 0..<changes.count, using: &rng)
                    changes.remove(at: gone)
                    paths.remove(at: gone)
                }
                var added = Array("pkg/models/z/new\(round)".utf8)
                added.append(0xFE)
                if let at = paths.firstIndex(where: { PathBytes.less(added, $0) }) {
                    paths.insert(added, at: at)
                    changes.insert(try StateFoldTests.change(added, &rng), at: at)
                }
                if round % 2 == 1, !state.items.isEmpty {
                    let k = Int.random(in: 0..<state.items.count, using: &rng)
                    state.items[k].exportedAt = Timestamp.format(StateFoldTests.now)
                    state.items[k].exportId = "drift-\(round)"
                }
            }
            if handBack { #expect(memo.reusedItems.withLock { $0 } > n, "seed \(seed): the memo was used") }
        }
    }
}

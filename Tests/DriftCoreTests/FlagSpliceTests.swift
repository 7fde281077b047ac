import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// `SecretIndex.flag` told a watch batch's splice (issue 28 round 13) judges the hunks alone and
/// leaves every list as a whole judgement leaves it: random batches of rewritten files (some
/// holding a secret value, some a private key, some neither), the index changing between some
/// batches (a value learned, then gone), non-UTF-8 names.
@Suite struct FlagSpliceTests {
    typealias SplitMix = StateFoldTests.SplitMix

    static let value = Array("Zq8vX2mN4pL7rT1wY6kBc3Hd".utf8)

    static func body(_ kind: Int, _ n: Int) -> [UInt8] {
        switch kind {
        case 0: return Array("print(\"Zq8vX2mN4pL7rT1wY6kBc3Hd\") # \(n)\n".utf8)
        case 1: return []
        default: return Array("x = \(n)\n".utf8)
        }
    }

    @Test("scoped judgements equal whole ones over batches in a row", arguments: 0..<6)
    func scopedEqualsWhole(seed: UInt64) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var rng = SplitMix(state: seed)
        let root = Array(dir.path.utf8)
        let names: [[UInt8]] = (0..<40).map { k in
            Array("d\(k % 4)/".utf8) + (k % 7 == 0 ? [0xFF, 0x41] : []) + Array("f\(k)".utf8) + Array(".py".utf8)
        }.sorted(by: bytesLess)
        for d in 0..<4 { try FileManager.default.createDirectory(atPath: dir.sub("d\(d)"), withIntermediateDirectories: true) }
        var serial = 0
        func write(_ p: [UInt8]) throws -> FileChange {
            serial += 1
            let b = Self.body(Int.random(in: 0..<3, using: &rng), serial)
            try AtomicFile.write(b, toPath: root + [UInt8(ascii: "/")] + p)
            let new = EntryState(kind: .regular, executable: false, size: Int64(b.count), digest: try SHA256Hasher.digest(b))
            let data = p.contains(0xFF)
            return FileChange(path: p, change: .added, fileClass: data ? .data : .code, secret: false, old: nil,
                              new: new, firstSeen: StateFoldTests.now)
        }
        let manifest = Manifest(commit: "0", root: root, policySHA256: try SHA256Hasher.digest([]), entries: [])
        func index(_ known: Bool) throws -> SecretIndex {
            let vars = known ? [SecretEnvironment.Variable(name: Array("API_TOKEN".utf8), value: Self.value,
                                                          origin: .drift)] : []
            return try SecretIndex(walk: TreeWalk(entries: [], issues: [], unreadableDirectories: []),
                                   manifest: manifest, changes: [], reader: FileReader(root: root),
                                   environment: SecretEnvironment(variables: vars))
        }
        let walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
        let reader = FileReader(root: root)
        let verdicts = SecretVerdicts()
        var list = try names.filter { _ in Bool.random(using: &rng) }.map { try write($0) }
        var known = true
        var generation: UInt64 = 1
        _ = try index(known).flag(&list, walk: walk, reader: reader, sizeLimit: 1 << 20, contents: [:],
                                  verdicts: verdicts, splice: nil, generation: generation)
        for _ in 0..<25 {
            // A batch: some names rewritten or removed, the list spliced as the watcher does.
            var scope = ScanScope()
            var part: [FileChange] = []
            for p in names where Int.random(in: 0..<8, using: &rng) == 0 {
                scope.paths.insert(p)
                if Bool.random(using: &rng) { part.append(try write(p)) }
            }
            let before = list.count
            let edit = mergeScoped(into: &list, part, scope, path: \.path)
            let splice = ChangeSplice(dropped: edit.dropped, insertedBefore: edit.insertedBefore, oldCount: before,
                                      from: generation, to: generation + 1)
            generation += 1
            if Int.random(in: 0..<5, using: &rng) == 0 { known.toggle() }
            var whole = list
            let idx = try index(known)
            _ = idx.flag(&whole, walk: walk, reader: reader, sizeLimit: 1 << 20)
            let pre = list.map(\.secrecy)
            let got = idx.flag(&list, walk: walk, reader: reader, sizeLimit: 1 << 20, contents: [:],
                               verdicts: verdicts, splice: splice, generation: generation)
            #expect(list.map(\.secrecy) == whole.map(\.secrecy))
            #expect(list.map(\.path) == whole.map(\.path))
            // What the judgement changed outside the hunks is named (every later step redoes it).
            for i in list.indices where splice.oldIndex(ofNew: i) != nil && pre[i] != list[i].secrecy {
                #expect(got.rejudged.contains(i), "position \(i) changed outside the hunks, not named")
            }
            if known { #expect(list.contains { $0.secrecy == .content }) }
        }
    }
}

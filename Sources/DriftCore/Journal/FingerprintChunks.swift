/// The journal fingerprint's chunks (`Journal.fingerprint`, version 3): consecutive changes,
/// ended where the parent directory changes once the chunk holds at least `minimum` of them.
/// A directory of 1,000 drifted files is one chunk, a run of small directories is one chunk:
/// an edit hashes again the lines of its chunk alone, and a chunk costs one line on top.
struct FingerprintChunks: Sequence {
    struct Chunk {
        var range: Range<Int>
        /// Its members' check (`MemberHasher.addForFingerprint`; hash 0 when not checked).
        var check: MemberCheck
    }

    /// Part of the fingerprint's definition: changing it changes every fingerprint.
    static let minimum = 256

    private let chunks: [Chunk]
    /// When checked: the check of every change the snapshot's fold may fold
    /// (`FoldRuns.mayFold`), in order, with all it reads (`SnapshotFold`'s memo of a whole fold).
    private(set) var foldable: MemberCheck?

    /// `checked`: each chunk's members are hashed (a memo will compare them).
    init(_ changes: [FileChange], checked: Bool) {
        var chunks: [Chunk] = []
        var start = 0
        var hasher = MemberHasher()
        var fold = MemberHasher()
        // The previous change's parent directory: its place and length (with the `/`).
        var parent = (place: 0, length: -1)
        changes.withUnsafeBufferPointer { c in
            for i in c.indices {
                let length = FoldRuns.lastSlash(c[i].path) + 1
                let same = length == parent.length && FoldRuns.samePrefix(c[i].path, c[parent.place].path, length)
                if !same && i - start >= Self.minimum {
                    let check = checked ? hasher.finish() : MemberCheck(count: 0, hash: 0)
                    chunks.append(Chunk(range: start..<i, check: check))
                    hasher = MemberHasher()
                    start = i
                }
                parent = (i, length)
                guard checked else { continue }
                hasher.addForFingerprint(c[i], from: same && i > start ? length : 0)
                // The path is in cache now: the fold's inputs cost no second read of it.
                if FoldRuns.mayFold(c[i].fileClass, c[i].secrecy, c[i].change) {
                    fold.addForFold(c[i], from: 0, kind: true)
                }
            }
        }
        if start < changes.count {
            chunks.append(Chunk(range: start..<changes.count,
                                check: checked ? hasher.finish() : MemberCheck(count: 0, hash: 0)))
        }
        self.chunks = chunks
        foldable = checked ? fold.finish() : nil
    }

    func makeIterator() -> IndexingIterator<[Chunk]> { chunks.makeIterator() }
}

import DriftSystem

/// The journal fingerprint's chunks (`Journal.fingerprint`, version 3): consecutive changes,
/// ended where the parent directory changes once the chunk holds at least `minimum` of them.
/// A directory of 1,000 drifted files is one chunk, a run of small directories is one chunk:
/// an edit hashes again the lines of its chunk alone, and a chunk costs one line on top.
///
/// A chunk's end depends only on where it starts and on the changes from there: the next
/// chunk starts at the first position, `minimum` or more after the start, whose parent
/// directory is not its predecessor's. That is what lets a watch batch's splice keep the
/// chunks between its hunks (`spliced`).
enum FingerprintChunks {
    typealias Chunk = JournalMemo.Chunk

    /// Part of the fingerprint's definition: changing it changes every fingerprint.
    static let minimum = 256

    /// The chunks of `changes`, each made again; `checked`: with their members' checks, and
    /// their digests taken from `known` (by check) when there.
    static func all(_ changes: [FileChange], checked: Bool, known: [MemberCheck: Digest],
                    _ lines: inout HashedLines) throws -> [Chunk] {
        var out: [Chunk] = []
        var start = 0
        while start < changes.count {
            let next = try made(changes, from: start, checked: checked, known: known, &lines)
            out.append(next)
            start += next.count
        }
        return out
    }

    /// The chunks of `changes` from `old`, the chunks of the list `splice` edits: a chunk of
    /// `old` is kept (moved to its new place) when it starts where a chunk starts now and all
    /// it and its end depend on is untouched, that is, its members and the change right after
    /// it lie in one untouched segment (its members, in place, make its digest and checks; the
    /// parent directories from its start to that change make its end). Every other chunk is
    /// made again from the changes, and the next is looked for where it ends: the list equals
    /// `all`'s, chunk by chunk (each chunk, kept or made, is the one starting at its place).
    /// - Returns: nil when `old` is not of the list `splice` edits.
    static func spliced(_ changes: [FileChange], old: [Chunk], splice: ChangeSplice,
                        _ lines: inout HashedLines) throws -> [Chunk]? {
        guard changes.count == splice.newCount, (old.last.map { $0.start + $0.count } ?? 0) == splice.oldCount else {
            return nil
        }
        let segments = splice.untouched
        var out: [Chunk] = []
        out.reserveCapacity(old.count + 2 * segments.count)
        var start = 0
        var s = 0
        var k = 0
        while start < changes.count {
            while s < segments.count && segments[s].new.upperBound <= start { s += 1 }
            if s < segments.count && segments[s].new.contains(start) {
                let segment = segments[s]
                let o = segment.old + (start - segment.new.lowerBound)
                let oldEnd = segment.old + segment.new.count
                while k < old.count && old[k].start < o { k += 1 }
                if k < old.count && old[k].start == o {
                    let end = o + old[k].count
                    let last = end == splice.oldCount && oldEnd == end && segment.new.upperBound == changes.count
                    if end < oldEnd || last {
                        var kept = old[k]
                        kept.start = start
                        out.append(kept)
                        start += kept.count
                        continue
                    }
                }
            }
            let next = try made(changes, from: start, checked: true, known: [:], &lines)
            out.append(next)
            start += next.count
        }
        return out
    }

    /// The chunk starting at `start` (where a chunk starts), its digest from `known` or hashed.
    private static func made(_ changes: [FileChange], from start: Int, checked: Bool, known: [MemberCheck: Digest],
                             _ lines: inout HashedLines) throws -> Chunk {
        let (end, check, fold) = bounds(changes, from: start, checked: checked)
        if checked, let digest = known[check] {
            return Chunk(start: start, count: end - start, check: check, digest: digest, fold: fold)
        }
        return Chunk(start: start, count: end - start, check: check, digest: try digest(changes[start..<end], &lines),
                     fold: fold)
    }

    /// Where the chunk starting at `start` ends, and when `checked` its members' checks: the
    /// fingerprint's (`MemberHasher.addForFingerprint`) and the fold's (`FoldRuns.mayFold`
    /// members, with all the fold reads), made while each path is in cache.
    private static func bounds(_ changes: [FileChange], from start: Int, checked: Bool)
        -> (end: Int, check: MemberCheck, fold: SequenceCheck) {
        var hasher = MemberHasher()
        var fold = SequenceCheck()
        var end = changes.count
        // The previous change's parent directory: its place and length (with the `/`).
        var parent = (place: start, length: -1)
        changes.withUnsafeBufferPointer { c in
            for i in start..<c.count {
                let length = FoldRuns.lastSlash(c[i].path) + 1
                let same = length == parent.length && FoldRuns.samePrefix(c[i].path, c[parent.place].path, length)
                if !same && i - start >= Self.minimum {
                    end = i
                    return
                }
                parent = (i, length)
                guard checked else { continue }
                hasher.addForFingerprint(c[i], from: same ? length : 0)
                if FoldRuns.mayFold(c[i].fileClass, c[i].secrecy, c[i].change) {
                    var member = MemberHasher()
                    member.addForFold(c[i], from: 0, kind: true)
                    fold.append(member.finish())
                }
            }
        }
        return (end, checked ? hasher.finish() : MemberCheck(count: 0, hash: 0), fold)
    }

    /// The SHA-256 of a chunk's lines: `<change> <escaped path> <sha256 or -> <git mode or ->
    /// <unstable>` each.
    private static func digest(_ chunk: ArraySlice<FileChange>, _ lines: inout HashedLines) throws -> Digest {
        for c in chunk {
            lines.append(text: c.change.rawValue)
            lines.append(byte: 0x20)
            lines.append(escaped: c.path[...])
            lines.append(byte: 0x20)
            lines.append(digest: c.new?.digest)
            lines.append(byte: 0x20)
            lines.append(mode: c.new?.gitMode)
            lines.append(text: c.unstable ? " true" : " false")
            try lines.endLine()
        }
        return try lines.finish()
    }
}

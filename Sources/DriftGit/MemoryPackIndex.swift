import CLibGit2
import DriftSystem

/// Indexes a pack into memory: what `git index-pack --strict`-like checks libgit2's
/// `git_indexer` (with `verify`) applies, without writing a `.pack` and `.idx` to disk.
///
/// The pack is untrusted input, so every size is checked before anything is allocated:
/// the header's object count is believed only as far as the bytes go, an entry's declared
/// size is charged against `maxBytes` before it is inflated, a delta's result size likewise,
/// and the trailing SHA-1 must match. Deltas (OFS and REF) are resolved in any order; a
/// REF delta whose base is not in the pack is resolved against `lower` (a thin pack), as
/// git_indexer does. Every object is hashed by libgit2 (SHA-1 with collision detection),
/// commits, trees and tags are parsed by libgit2, and everything they point at must be in
/// the pack or in `lower` (gitlinks excepted): a pack that names an object nobody has fails.
extension MemoryObjectStore {
    /// Returns the ids of the pack's objects, in pack order.
    @discardableResult
    public func indexPack(_ pack: ArraySlice<UInt8>, maxBytes: Int) throws -> [ObjectID] {
        try pack.withUnsafeBytes { bytes in
            var indexing = PackIndexing(store: self, pack: bytes, budget: maxBytes)
            return try indexing.run()
        }
    }
}

private enum PackEntry {
    case whole(GitObjectType, [UInt8])
    case ofsDelta(base: Int, delta: [UInt8])
    case refDelta(base: ObjectID, delta: [UInt8])
}

private struct PackIndexing {
    let store: MemoryObjectStore
    let pack: UnsafeRawBufferPointer
    var budget: Int

    init(store: MemoryObjectStore, pack: UnsafeRawBufferPointer, budget: Int) {
        self.store = store
        self.pack = pack
        self.budget = budget
    }

    func fail(_ why: String) -> DriftError { DriftError(.gitFailure, "pack: \(why)") }

    mutating func run() throws -> [ObjectID] {
        guard pack.count >= 32, pack[0] == 0x50, pack[1] == 0x41, pack[2] == 0x43, pack[3] == 0x4B else {
            throw fail("no PACK header")
        }
        let version = u32(4)
        guard version == 2 || version == 3 else { throw fail("unsupported version \(version)") }
        let declared = Int(u32(8))
        let end = pack.count - 20
        try checkTrailer(end)
        var starts: [Int] = []
        var entries: [PackEntry] = []
        var at = 12
        // Each entry takes at least two bytes (header + zlib), so the count cannot make us loop
        // or reserve more than the bytes allow.
        guard declared <= (end - at) / 2 else { throw fail("header claims \(declared) objects in \(end) bytes") }
        for _ in 0..<declared {
            starts.append(at)
            entries.append(try entry(&at, end: end, starts: starts))
        }
        guard at == end else { throw fail("\(end - at) bytes after the last object") }
        return try resolve(entries, starts: starts)
    }

    private func u32(_ i: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(pack[i + $1]) }
    }

    private func checkTrailer(_ end: Int) throws {
        let sum: [UInt8]
        do {
            let hasher = try SHA1Hasher()
            try hasher.update(UnsafeRawBufferPointer(rebasing: pack[..<end]))
            sum = try hasher.finish()
        } catch {
            throw fail("cannot compute its checksum")
        }
        guard sum.prefix(20).elementsEqual(pack[end...]) else { throw fail("trailing checksum mismatch") }
    }

    /// One entry at `at`: header, delta base, inflated body (charged against the budget).
    private mutating func entry(_ at: inout Int, end: Int, starts: [Int]) throws -> PackEntry {
        let start = at
        guard at < end else { throw fail("truncated at object \(starts.count)") }
        guard let (type, size) = packEntryHeader({ pack[$0] }, &at, end: end, maxShift: 60) else {
            throw fail("bad object header at offset \(start)")
        }
        guard size <= UInt64(budget) else {
            throw fail("object at offset \(start) declares \(size) bytes, over the \(budget)-byte budget left")
        }
        switch type {
        case 1, 2, 3, 4:
            let kind: GitObjectType = [.commit, .tree, .blob, .tag][type - 1]
            return .whole(kind, try inflate(&at, end: end, size: Int(size)))
        case 6:
            guard at < end else { throw fail("truncated at offset \(at)") }
            var c = pack[at]
            at += 1
            var back = Int(c & 0x7f)
            while c & 0x80 != 0 {
                guard at < end, back < 1 << 48 else { throw fail("bad delta offset at offset \(start)") }
                c = pack[at]
                at += 1
                back = (back + 1) << 7 | Int(c & 0x7f)
            }
            // The base must be an earlier entry's exact start.
            guard back > 0, back <= start - 12, let base = starts.firstIndexSorted(of: start - back) else {
                throw fail("delta at offset \(start) points at no object")
            }
            return .ofsDelta(base: base, delta: try inflate(&at, end: end, size: Int(size)))
        case 7:
            guard at + 20 <= end else { throw fail("truncated at offset \(at)") }
            var oid = git_oid()
            let raw = UnsafeRawBufferPointer(rebasing: pack[at..<(at + 20)])
            withUnsafeMutableBytes(of: &oid.id) { $0.copyMemory(from: raw) }
            at += 20
            return .refDelta(base: ObjectID(oid), delta: try inflate(&at, end: end, size: Int(size)))
        default:
            throw fail("object at offset \(start) has invalid type \(type)")
        }
    }

    /// Inflates exactly `size` bytes from the zlib stream at `at`; `at` moves past the stream.
    private mutating func inflate(_ at: inout Int, end: Int, size: Int) throws -> [UInt8] {
        budget -= size
        var out = [UInt8](repeating: 0, count: size + 1)
        var z = z_stream()
        guard inflateInit_(&z, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib inflateInit failed")
        }
        defer { inflateEnd(&z) }
        guard let input = pack.baseAddress else { throw fail("empty") }
        let rc: Int32 = out.withUnsafeMutableBytes { o in
            z.next_in = UnsafeMutablePointer(mutating: (input + at).assumingMemoryBound(to: UInt8.self))
            z.avail_in = UInt32(min(end - at, Int(UInt32.max)))
            z.next_out = o.baseAddress?.assumingMemoryBound(to: UInt8.self)
            // One byte of room past the declared size: an object larger than declared shows.
            z.avail_out = UInt32(o.count)
            return zlibInflate(&z, Z_FINISH)
        }
        guard rc == Z_STREAM_END, Int(z.total_out) == size else {
            throw fail("object at offset \(at) does not inflate to its declared \(size) bytes")
        }
        at += Int(z.total_in)
        out.removeLast()
        return out
    }

    /// Turns entries into stored objects: whole ones first, then each delta once its base is
    /// known (by offset, by id in the pack, or in `lower`), in any order, without recursion.
    private mutating func resolve(_ entries: [PackEntry], starts: [Int]) throws -> [ObjectID] {
        var done: [(GitObjectType, [UInt8])?] = Array(repeating: nil, count: entries.count)
        var ids: [ObjectID?] = Array(repeating: nil, count: entries.count)
        var byID: [ObjectID: Int] = [:]
        // Deltas waiting on an entry index (OFS) or an id (REF).
        var onIndex: [Int: [Int]] = [:]
        var onID: [ObjectID: [Int]] = [:]
        var ready: [Int] = []
        for (i, e) in entries.enumerated() {
            switch e {
            case .whole: ready.append(i)
            case .ofsDelta(let base, _): onIndex[base, default: []].append(i)
            case .refDelta(let base, _): onID[base, default: []].append(i)
            }
        }
        var external: [ObjectID: (GitObjectType, [UInt8])] = [:]
        while true {
            while let i = ready.popLast() {
                let (type, body): (GitObjectType, [UInt8])
                switch entries[i] {
                case .whole(let t, let b): (type, body) = (t, b)
                case .ofsDelta(let base, let delta):
                    guard let b = done[base] else { throw fail("delta base missing") }
                    (type, body) = (b.0, try apply(delta, to: b.1))
                case .refDelta(let base, let delta):
                    guard let b = byID[base].flatMap({ done[$0] }) ?? external[base] else {
                        throw fail("delta base missing")
                    }
                    (type, body) = (b.0, try apply(delta, to: b.1))
                }
                let id = try store.put(type, body)
                done[i] = (type, body)
                ids[i] = id
                byID[id] = i
                ready += onIndex.removeValue(forKey: i) ?? []
                ready += onID.removeValue(forKey: id) ?? []
            }
            // What is left waits on ids the pack lacks: a thin pack's bases, from `lower`.
            guard let (base, waiting) = onID.first else { break }
            guard let b = try store.lower.read(base) else {
                throw fail("delta base \(base.hex) is neither in the pack nor in the repository")
            }
            external[base] = b
            onID[base] = nil
            ready += waiting
        }
        guard onIndex.isEmpty, ids.allSatisfy({ $0 != nil }) else { throw fail("unresolvable deltas") }
        let all = ids.compactMap { $0 }
        try checkConnected(all, types: done.map { $0?.0 })
        return all
    }

    /// Applies a git delta (`<base size><result size>` then copy/insert ops) to `base`.
    private mutating func apply(_ delta: [UInt8], to base: [UInt8]) throws -> [UInt8] {
        var at = 0
        func varint() throws -> Int {
            var v = 0
            var shift = 0
            while true {
                guard at < delta.count, shift < 56 else { throw fail("corrupt delta header") }
                let c = delta[at]
                at += 1
                v |= Int(c & 0x7f) << shift
                shift += 7
                if c & 0x80 == 0 { return v }
            }
        }
        guard try varint() == base.count else { throw fail("delta does not apply to its base (size)") }
        let size = try varint()
        guard size <= budget else { throw fail("delta result of \(size) bytes is over the budget") }
        budget -= size
        var out: [UInt8] = []
        out.reserveCapacity(size)
        while at < delta.count {
            let op = delta[at]
            at += 1
            if op & 0x80 != 0 {
                var off = 0
                var len = 0
                for k in 0..<7 where op & (1 << k) != 0 {
                    guard at < delta.count else { throw fail("corrupt delta copy") }
                    if k < 4 { off |= Int(delta[at]) << (8 * k) } else { len |= Int(delta[at]) << (8 * (k - 4)) }
                    at += 1
                }
                if len == 0 { len = 0x10000 }
                guard off + len <= base.count, out.count + len <= size else { throw fail("delta copies out of range") }
                out += base[off..<(off + len)]
            } else if op != 0 {
                let len = Int(op)
                guard at + len <= delta.count, out.count + len <= size else { throw fail("corrupt delta insert") }
                out += delta[at..<(at + len)]
                at += len
            } else {
                throw fail("delta has a reserved opcode")
            }
        }
        guard out.count == size else { throw fail("delta result is not its declared size") }
        return out
    }

    /// libgit2 parses every commit, tree and tag; each id it names must be in the pack or in
    /// `lower` (a tree's gitlinks name commits of other repositories and are not looked up).
    private func checkConnected(_ ids: [ObjectID], types: [GitObjectType?]) throws {
        let repo = store.repository
        let inPack = Set(ids)
        func need(_ id: ObjectID, from: ObjectID) throws {
            if inPack.contains(id) || store.lower.contains(id) { return }
            throw fail("object \(from.hex) names \(id.hex), which is neither in the pack nor in the repository")
        }
        for (id, type) in zip(ids, types) {
            switch type {
            case .commit:
                let c = try repo.lookupCommit(id)
                try need(c.treeID, from: id)
                for p in c.parentIDs { try need(p, from: id) }
            case .tree:
                let t = try repo.lookupTree(id)
                for k in 0..<git_tree_entrycount(t.pointer) {
                    guard let e = git_tree_entry_byindex(t.pointer, k) else { continue }
                    if git_tree_entry_filemode(e) == GIT_FILEMODE_COMMIT { continue }
                    try need(ObjectID(git_tree_entry_id(e).pointee), from: id)
                }
            case .tag:
                var o = id.oid
                var tag: OpaquePointer?
                try check(git_tag_lookup(&tag, repo.pointer, &o), "git_tag_lookup", "\(repo.shown): tag \(id.hex)")
                defer { git_tag_free(tag) }
                try need(ObjectID(git_tag_target_id(tag).pointee), from: id)
            case .blob, nil:
                continue
            }
        }
    }
}

/// `inflate` under another name: inside `PackIndexing` the method of that name shadows zlib's.
private func zlibInflate(_ z: inout z_stream, _ flush: Int32) -> Int32 { inflate(&z, flush) }

extension Array where Element == Int {
    /// The index of `value` in a sorted array, by binary search.
    fileprivate func firstIndexSorted(of value: Int) -> Int? {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self[lo] == value ? lo : nil
    }
}

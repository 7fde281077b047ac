import DriftGit
import DriftSystem

/// A stat cache on disk is a base file (`statcache`, written whole) and a log of the changes
/// since (`statcache.log`, appended), as git's split index keeps a shared index and a small
/// one: a scan that changed ten files appends ten records instead of rewriting every record
/// (docs/state.md, "Stat cache").
///
/// The log is `DRIFTSL1` + the base's SHA-256 trailer (which base it extends), then
/// `AppendLog` frames, one per save: a record count, then per record `u8` op (1 put, 0
/// remove), `u64` path length, path and, for a put, the entry as in the base. A log that
/// names another base is stale (a crash between a new base and the log's removal) and ignored.
extension StatCache {
    static let logMagic: [UInt8] = Array("DRIFTSL1".utf8)
    static let logHeaderSize = 8 + 32

    /// Where a loaded cache came from: what a save must still find on disk to append.
    struct Origin: Sendable, Equatable {
        /// The base file's SHA-256 trailer.
        var baseID: [UInt8]
        var baseSize: Int
        /// The base file's stat when it was read (a save rewrote it if this changed).
        var baseStat: FileStat
        /// The log's valid length (0: no log for this base).
        var logEnd: Int
        /// A log file is there that is not (wholly) valid for this base: stale or torn.
        var logDamaged: Bool
    }

    /// A log may grow to this before the next save writes a new base: an eighth of the base
    /// (so reading costs at most 1.125 base sizes, and each byte appended is rewritten at
    /// most 8 times over), at least 64 KiB.
    static func logBound(baseSize: Int) -> Int { max(64 << 10, baseSize / 8) }

    /// Applies the log `bytes` written for the base `baseID`; returns the log's valid
    /// length, 0 when it belongs to another base (or has no valid header).
    mutating func fold(log bytes: [UInt8], baseID: [UInt8]) -> Int {
        guard bytes.count >= Self.logHeaderSize, bytes.starts(with: Self.logMagic),
              bytes[8..<Self.logHeaderSize].elementsEqual(baseID) else { return 0 }
        let (payloads, end) = AppendLog.frames(bytes, from: Self.logHeaderSize)
        var changes: [[UInt8]: Entry?] = [:]
        for p in payloads {
            guard let records = Self.decodeDelta(p) else { return 0 }
            for (path, e) in records { changes[path] = .some(e) }
        }
        apply(changes)
        return end
    }

    /// Replaces, adds or removes (nil) the given paths, keeping `entries` sorted.
    mutating func apply(_ changes: [[UInt8]: Entry?]) {
        if changes.isEmpty { return }
        // In place (`Records.patch`): a log of ten edits must not copy every record (22 MB
        // at 200,000 files) on every load.
        var replace: [(Int, Entry?)] = []
        var insert: [(at: Int, path: [UInt8], entry: Entry)] = []
        for path in changes.keys.sorted(by: bytesLess) {
            let e = changes[path] ?? nil
            let i = entries.lowerBound(path)
            if i < entries.count && entries.comparePath(i, path) == 0 {
                replace.append((i, e))
            } else if let e {
                insert.append((i, path, e))
            }
        }
        entries.patch(replace: replace, insert: insert)
    }

    /// What turns `old` into `new` (both sorted): puts of new or changed records, removes.
    /// Paths are compared in place; only the records that differ are materialised.
    static func delta(from old: Records, to new: Records) -> [([UInt8], Entry?)] {
        var out: [([UInt8], Entry?)] = []
        if old.sharesStorage(with: new) && old.count == new.count { return out }
        // A cache patched from the other (`Records.patch`) shares its path bytes: equal spans
        // are equal paths, compared without reading them.
        let shared = old.sharesPaths(with: new)
        var i = 0, j = 0
        while i < old.count || j < new.count {
            let c = i == old.count ? 1 : j == new.count ? -1
                : shared && old.sameSpan(i, new, j) ? 0 : new.withPath(j) { old.comparePath(i, $0) }
            if c < 0 {
                out.append((old.path(i), nil))
                i += 1
            } else if c > 0 {
                out.append((new.path(j), new.entry(j)))
                j += 1
            } else {
                if old.entry(i) != new.entry(j) { out.append((new.path(j), new.entry(j))) }
                i += 1
                j += 1
            }
        }
        return out
    }

    static func encodeDelta(_ records: [([UInt8], Entry?)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 100 + 8)
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u64(UInt64(records.count))
        for (path, e) in records {
            out.append(e == nil ? 0 : 1)
            u64(UInt64(path.count))
            out += path
            guard let e else { continue }
            u64(UInt64(bitPattern: e.size))
            u64(UInt64(bitPattern: e.mtimeNs))
            u64(UInt64(bitPattern: e.ctimeNs))
            u64(e.inode)
            u64(e.device)
            out += e.digest.bytes
        }
        return out
    }

    /// nil when the payload does not decode exactly (its frame checksummed, so: a bug or a forgery).
    static func decodeDelta(_ payload: ArraySlice<UInt8>) -> [([UInt8], Entry?)]? {
        let bytes = Array(payload)
        var i = 0
        func u64() -> UInt64? {
            guard i + 8 <= bytes.count else { return nil }
            let v = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
            i += 8
            return v
        }
        guard let count = u64(), count <= UInt64(bytes.count) else { return nil }
        var out: [([UInt8], Entry?)] = []
        for _ in 0..<count {
            guard i < bytes.count else { return nil }
            let op = bytes[i]
            i += 1
            guard op <= 1, let len = u64(), len < 1 << 20, i + Int(len) <= bytes.count else { return nil }
            let path = Array(bytes[i..<(i + Int(len))])
            i += Int(len)
            if op == 0 {
                out.append((path, nil))
                continue
            }
            guard let size = u64(), let mt = u64(), let ct = u64(), let ino = u64(), let dev = u64(),
                  i + 32 <= bytes.count else { return nil }
            let d = Digest(bytes: bytes[i..<(i + 32)])
            i += 32
            out.append((path, Entry(size: Int64(bitPattern: size), mtimeNs: Int64(bitPattern: mt),
                                    ctimeNs: Int64(bitPattern: ct), inode: ino, device: dev, digest: d)))
        }
        return i == bytes.count ? out : nil
    }
}

extension StateDirectory {
    /// A cache of the state dir (base and log folded): nil when absent or damaged (its
    /// checksum notices; the scan rehashes and rewrites it). A torn or stale log is not an
    /// error: its valid records count, the rest is cut off by the next append.
    /// - Throws: `DriftError` when it is there but cannot be read (a symlink, permissions,
    ///   I/O): like `state.json`, never a silent full rehash on every run.
    func loadCache(name: String = "statcache") throws -> StatCache? {
        let f = file(name)
        guard case .success(let st) = lstatBytes(f) else { return nil }
        let bytes = try readWholeFile(f, followSymlinks: false)
        guard var cache = StatCache.parse(bytes) else { return nil }
        let baseID = Array(bytes.suffix(32))
        let logFile = file(name + ".log")
        var end = 0, damaged = false
        if !FileSystem.isAbsent(logFile) {
            let log = try readWholeFile(logFile, followSymlinks: false)
            end = cache.fold(log: log, baseID: baseID)
            damaged = end != log.count
        }
        cache.origin = StatCache.Origin(baseID: baseID, baseSize: bytes.count, baseStat: st, logEnd: end,
                                        logDamaged: damaged)
        return cache
    }

    /// Saves `new`, loaded as `old`: appends the difference to the log when `old` is what is
    /// on disk and the log stays within its bound (`StatCache.logBound`); else writes a new
    /// base and removes the log. Nothing when nothing changed. `delta`, when given, is that
    /// difference already known (`Scanner.Result.cacheDelta`; `old` need then hold only its origin).
    func saveCache(_ new: StatCache, old: StatCache?, delta: [([UInt8], StatCache.Entry?)]? = nil,
                   name: String = "statcache") throws {
        let logFile = file(name + ".log")
        if let old, let o = old.origin, onDisk(o, name: name) {
            let records = delta ?? StatCache.delta(from: old.entries, to: new.entries)
            if records.isEmpty && !o.logDamaged { return }
            let frame = try AppendLog.frame(StatCache.encodeDelta(records))
            let header = o.logEnd == 0 ? StatCache.logMagic + o.baseID : []
            let at = o.logEnd == 0 ? 0 : o.logEnd
            if records.isEmpty {
                // Only a torn tail or a stale log to clear: nothing worth a new base.
                if o.logEnd == 0 { try AppendLog.remove(logFile) } else {
                    try AppendLog.append([], to: logFile, at: at, durable: false)
                }
                return
            }
            if at + header.count + frame.count <= StatCache.logBound(baseSize: o.baseSize) {
                // Not synced: a record only says "this stat had this digest", so an append lost
                // or torn by a power loss costs the rehash of what it held, never a verdict (a
                // fdatasync here was a third of an edit scan's fsync wait).
                try AppendLog.append(header + frame, to: logFile, at: at, durable: false)
                return
            }
        }
        // Written as it is serialized, never held whole; its checksum (the base's id) first,
        // by a pass that only hashes.
        let sum = try new.serialize { _ in }
        // A log naming the new base's very bytes would apply to it: remove it first (a crash
        // then leaves that same base, log-free). Any other log names another base and is
        // ignored until removed, so the new base goes first (a crash keeps base and log).
        let header = FileSystem.isAbsent(logFile) ? [] : (try? readWholeFile(logFile, limit: StatCache.logHeaderSize,
                                                                               followSymlinks: false)) ?? []
        if header.count == StatCache.logHeaderSize && header.suffix(32).elementsEqual(sum.bytes) {
            try AppendLog.remove(logFile)
        }
        try AtomicFile.write(to: file(name), mode: 0o600) { emit in try new.serialize(into: emit) }
        try AppendLog.remove(logFile)
    }

    /// Whether base and log on disk are still what `o` was loaded from (another run may have
    /// saved since: then the new cache is written whole).
    private func onDisk(_ o: StatCache.Origin, name: String) -> Bool {
        guard case .success(let b) = lstatBytes(file(name)), b == o.baseStat else { return false }
        switch lstatBytes(file(name + ".log")) {
        case .success(let l): return l.kind == .regular && (l.size == Int64(o.logEnd) || o.logDamaged)
        case .failure: return o.logEnd == 0
        }
    }
}

import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the state dir remembers between scans: when each drifted path was first seen,
/// and the last scan's summary (docs/state.md).
public struct DriftState: Codable, Sendable {
    static let schema = "drift.state/1"

    public struct Item: Codable, Sendable, Equatable {
        /// Path, percent-escaped as in the manifest.
        public var path: String
        var firstSeen: String
        var change: ChangeKind
        var fileClass: FileClass?
        /// Set on a summary item: `count` drifted paths of this change and class below the
        /// directory `path` (escaped, ending in `/`; empty for the root), first seen at
        /// `firstSeen` at the earliest (`StateSummary`).
        var count: Int?
        /// What the path holds now, in one hash (`ExportDuty.fingerprint`): an export
        /// remembers it, and a later scan that sees another value restarts the clock.
        var fingerprint: Digest?
        /// When the deadline's clock started: absent while it is `first_seen`; the scan
        /// that saw an exported path change again sets it.
        var clockStarted: String?
        /// When and as which drift id this path's current version was exported.
        var exportedAt: String?
        var exportId: String?
        /// `fingerprint` at that export.
        var exportedFingerprint: Digest?
        /// When that export (or a later one carrying it) was pushed.
        var pushedAt: String?
        /// The upstream commit that carries that export's `Drift-Id` (`scan --upstream`).
        var reconciledIn: String?
        enum CodingKeys: String, CodingKey {
            case path, change, fingerprint, count
            case firstSeen = "first_seen"
            case fileClass = "class"
            case clockStarted = "clock_started"
            case exportedAt = "exported_at"
            case exportId = "export_id"
            case exportedFingerprint = "exported_fingerprint"
            case pushedAt = "pushed_at"
            case reconciledIn = "reconciled_in"
        }
    }

    var schema: String = DriftState.schema
    public var commit: String
    var items: [Item] = []
    var lastScan: String?
    var lastExitCode: Int?
    var lastExport: String?
    var lastExportId: String?
    /// The export the next follow-up stacks on: the last export of the latest drift (an
    /// `export --snapshot` of an older state does not move it); nil: `lastExportId`.
    var chainTip: String?
    /// Export ids pushed, by remote URL (so a re-run pushes nothing).
    public var pushed: [String: [String]]?
    var lastPush: String?
    /// `Journal.fingerprint` of the drift last recorded in full.
    var journalFingerprint: Digest?
    /// Scans run with this state dir: picks each scan's re-verification slice.
    var scans: Int?
    /// Site-packages drift as last recorded (allowed packages left out; absent when none),
    /// so `drift status` lists it beside the drifted paths.
    var pip: [PipChange]?
    /// When the last full scan's re-verification slice ended (`ReverifySlice`: the next one
    /// covers what the clock moved over since).
    var reverifiedAt: String?
    /// Why this state was rebuilt instead of read (a damaged or oversized `state.json`);
    /// never written. The next locked write moves the old file aside first.
    var recovered: String?

    enum CodingKeys: String, CodingKey {
        case schema, commit, items
        case lastScan = "last_scan"
        case lastExitCode = "last_exit_code"
        case lastExport = "last_export"
        case lastExportId = "last_export_id"
        case chainTip = "chain_tip"
        case pushed
        case lastPush = "last_push"
        case journalFingerprint = "journal_fingerprint"
        case scans, pip
        case reverifiedAt = "reverified_at"
    }
    // `recovered` is not a key: it is never written.

    public init(commit: String) { self.commit = commit }

    /// Keeps first-seen times of paths that are still drifted; new ones get the scan's time.
    /// A drifted path that could not be read this time (`unreadable`) is still drifted as far
    /// as anyone knows: it keeps its item and first sighting (a `chmod 000` must not restart a
    /// deadline).
    ///
    /// An exported path keeps its export while it holds what was exported; once it holds
    /// something else, the export no longer covers it and its clock restarts at this scan.
    /// A path under a summary item (`StateSummary`) takes the summary's first sighting and
    /// export (a summary keeps no per-path fingerprint).
    /// - Returns: how many unreadable drifted paths were kept (not in `changes`).
    @discardableResult
    mutating func merge(_ changes: inout [FileChange], unreadable: [[UInt8]] = []) throws -> Int {
        var old: [String: Date] = [:]
        var before: [String: Item] = [:]
        var summaries: [String: Item] = [:]
        for i in items {
            if i.count != nil {
                summaries[i.path] = i
            } else {
                old[i.path] = Timestamp.parse(i.firstSeen)
                before[i.path] = i
            }
        }
        let keys = changes.map { PathBytes.escape($0.path) }
        let current = Set(keys)
        let unknown = Set(unreadable.map { PathBytes.escape($0) })
        let kept = unknown.isEmpty ? [] : items.filter {
            $0.count == nil && unknown.contains($0.path) && !current.contains($0.path)
        }
        items = try changes.indices.map { k in
            let key = keys[k]
            let seenNow = changes[k].firstSeen
            let summary = before[key] == nil ? StateSummary.covering(key, in: summaries) : nil
            if let t = old[key] ?? summary.flatMap({ Timestamp.parse($0.firstSeen) }) { changes[k].firstSeen = t }
            var item = Item(path: key,
                            firstSeen: Timestamp.format(changes[k].firstSeen),
                            change: changes[k].change,
                            fileClass: changes[k].fileClass)
            item.fingerprint = try ExportDuty.fingerprint(changes[k])
            if let prior = before[key] {
                item.carryDuty(from: prior, restartingAt: seenNow)
            } else if let summary {
                item.clockStarted = summary.clockStarted
                item.exportedAt = summary.exportedAt
                item.exportId = summary.exportId
                item.pushedAt = summary.pushedAt
                item.exportedFingerprint = summary.exportedAt == nil ? nil : item.fingerprint
            }
            return item
        }
        if !kept.isEmpty {
            items += kept
            items.sort { a, b in
                PathBytes.less(PathBytes.unescape(a.path.utf8) ?? [], PathBytes.unescape(b.path.utf8) ?? [])
            }
        }
        StateSummary.apply(&items)
        return kept.count
    }
}

/// The state directory (SDIR): `state.json`, `statcache`, `journal.git/`, `lock`.
public struct StateDirectory: Sendable {
    public let path: String
    static let defaultPath = "/var/lib/drift"
    /// Test hook: counts reads of `state.json` (nil: not counted).
    var reads: ReadCounter?

    public init(path: String?) { self.path = (path?.isEmpty == false ? path! : Self.defaultPath) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Creates the directory 0700 if needed; refuses one another user owns and tightens one
    /// others can read (the CLI checks first, to say so: `PrivateDirectory.secure`).
    func ensure() throws {
        try AtomicFile.makeDirectory(path, mode: 0o700)
        _ = try PrivateDirectory.secure(path)
    }

    /// Largest `state.json` read; what drift writes stays far below it (`StateSummary`).
    static let stateReadLimit = 256 << 20

    /// Loads state for `commit`; an SDIR from another base commit is refused. A damaged or
    /// oversized `state.json` is not an error (that would be an exit-2 loop until a person
    /// steps in): the state is rebuilt from the journal's latest snapshot, which keeps every
    /// recorded path's first sighting, and `recovered` says why (`StateRecovery`).
    func loadState(commit: String) throws -> DriftState {
        let f = file("state.json")
        reads?.count(.state)
        if FileSystem.isAbsent(f) { return DriftState(commit: commit) }
        if case .success(let info) = lstatBytes(Array(f.utf8)), info.kind == .regular,
           info.size > Int64(Self.stateReadLimit) {
            return StateRecovery.rebuild(self, commit: commit,
                                         why: "\(f) is larger than \(Self.stateReadLimit) bytes")
        }
        let bytes = try readWholeFile(f, limit: Self.stateReadLimit, followSymlinks: false)
        let s: DriftState
        do { s = try JSONDecoder().decode(DriftState.self, from: Data(bytes)) } catch {
            return StateRecovery.rebuild(self, commit: commit, why: "\(f) is damaged (\(errorText(error)))")
        }
        guard s.schema == DriftState.schema else {
            throw DriftError(.stateDamaged, path: f, "unsupported state schema '\(s.schema)'")
        }
        guard s.commit == commit else {
            throw DriftError(.stateDamaged, path: path, "state dir belongs to base commit \(s.commit), "
                + "but the manifest is for \(commit); export it (--state), then move it aside")
        }
        return s
    }

    /// `durable: false` skips making the rename itself durable (the directory's fsync): for a
    /// scan that changed only its counters, where a crash leaving the previous, complete
    /// `state.json` in place loses nothing but those counters.
    func saveState(_ s: DriftState, durable: Bool = true) throws {
        if s.recovered != nil { try StateRecovery.moveAside(self) }
        try AtomicFile.write(try JSONCoding.encode(s), to: file("state.json"), mode: 0o600, syncDirectory: durable)
    }

    /// The stat cache, or nil when absent or damaged (it is only an optimisation).
    /// A cache of the state dir: nil when absent or damaged (its checksum notices; the scan
    /// rehashes and rewrites it).
    /// - Throws: `DriftError` when it is there but cannot be read (a symlink, permissions,
    ///   I/O): like `state.json`, never a silent full rehash on every run.
    func loadCache(name: String = "statcache") throws -> StatCache? {
        let f = file(name)
        if FileSystem.isAbsent(f) { return nil }
        return StatCache.parse(try readWholeFile(f, followSymlinks: false))
    }

    func saveCache(_ c: StatCache, name: String = "statcache") throws {
        try AtomicFile.write(try c.serialized(), to: file(name), mode: 0o600)
    }
}

/// JSON with sorted keys, the one encoder drift writes with.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ v: T, pretty: Bool = true) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty
            ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        var out = escapeControls(Array(try enc.encode(v)))
        out.append(0x0A)
        return out
    }

    /// JSON escapes C0 controls but passes DEL and C1 controls (U+0080…U+009F) through raw;
    /// they can only be inside strings, so writing them as `\u007f`/`\u00XX` keeps every
    /// string exact while no raw control byte reaches a terminal or log.
    static func escapeControls(_ json: [UInt8]) -> [UInt8] {
        guard json.contains(where: { $0 == 0x7F || $0 == 0xC2 }) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 16)
        var i = 0
        let hex = Array("0123456789abcdef".utf8)
        while i < json.count {
            let b = json[i]
            if b == 0x7F || (b == 0xC2 && i + 1 < json.count && (0x80...0x9F).contains(json[i + 1])) {
                let v = b == 0x7F ? b : json[i + 1]
                out += Array("\\u00".utf8) + [hex[Int(v >> 4)], hex[Int(v & 0xF)]]
                i += b == 0x7F ? 1 : 2
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }
}

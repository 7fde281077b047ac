import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
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
        enum CodingKeys: String, CodingKey {
            case path, change
            case firstSeen = "first_seen"
            case fileClass = "class"
        }
    }

    var schema: String = DriftState.schema
    public var commit: String
    var items: [Item] = []
    var lastScan: String?
    var lastExitCode: Int?
    var lastExport: String?
    var lastExportId: String?
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

    enum CodingKeys: String, CodingKey {
        case schema, commit, items
        case lastScan = "last_scan"
        case lastExitCode = "last_exit_code"
        case lastExport = "last_export"
        case lastExportId = "last_export_id"
        case pushed
        case lastPush = "last_push"
        case journalFingerprint = "journal_fingerprint"
        case scans, pip
    }

    public init(commit: String) { self.commit = commit }

    /// Keeps first-seen times of paths that are still drifted; new ones get the scan's time.
    /// A drifted path that could not be read this time (`unreadable`) is still drifted as far
    /// as anyone knows: it keeps its item and first sighting (a `chmod 000` must not restart a
    /// deadline).
    mutating func merge(_ changes: inout [FileChange], unreadable: [[UInt8]] = []) {
        var old: [String: Date] = [:]
        for i in items { old[i.path] = Timestamp.parse(i.firstSeen) }
        let keys = changes.map { PathBytes.escape($0.path) }
        let current = Set(keys)
        let unknown = Set(unreadable.map { PathBytes.escape($0) })
        let kept = unknown.isEmpty ? [] : items.filter { unknown.contains($0.path) && !current.contains($0.path) }
        items = changes.indices.map { k in
            let key = keys[k]
            if let t = old[key] { changes[k].firstSeen = t }
            return Item(path: key,
                        firstSeen: Timestamp.format(changes[k].firstSeen),
                        change: changes[k].change,
                        fileClass: changes[k].fileClass)
        }
        if !kept.isEmpty {
            items += kept
            items.sort { a, b in
                PathBytes.less(PathBytes.unescape(a.path.utf8) ?? [], PathBytes.unescape(b.path.utf8) ?? [])
            }
        }
    }
}

/// The state directory (SDIR): `state.json`, `statcache`, `journal.git/`, `lock`.
public struct StateDirectory: Sendable {
    public let path: String
    static let defaultPath = "/var/lib/drift"

    public init(path: String?) { self.path = (path?.isEmpty == false ? path! : Self.defaultPath) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Creates the directory 0700 if needed.
    func ensure() throws {
        try AtomicFile.makeDirectory(path, mode: 0o700)
    }

    /// Loads state for `commit`; an SDIR from another base commit is refused.
    func loadState(commit: String) throws -> DriftState {
        let f = file("state.json")
        guard FileManager.default.fileExists(atPath: f) else { return DriftState(commit: commit) }
        let bytes = try readWholeFile(f, limit: 256 << 20, followSymlinks: false)
        let s: DriftState
        do { s = try JSONDecoder().decode(DriftState.self, from: Data(bytes)) } catch {
            throw DriftError("\(f): state file is damaged (\(errorText(error))); move it aside to start afresh")
        }
        guard s.schema == DriftState.schema else { throw DriftError("\(f): unsupported state schema '\(s.schema)'") }
        guard s.commit == commit else {
            throw DriftError("\(path): state dir belongs to base commit \(s.commit), "
                + "but the manifest is for \(commit); export it (--state), then move it aside")
        }
        return s
    }

    /// `durable: false` skips making the rename itself durable (the directory's fsync): for a
    /// scan that changed only its counters, where a crash leaving the previous, complete
    /// `state.json` in place loses nothing but those counters.
    func saveState(_ s: DriftState, durable: Bool = true) throws {
        try AtomicFile.write(try JSONCoding.encode(s), to: file("state.json"), mode: 0o600, syncDirectory: durable)
    }

    /// The stat cache, or nil when absent or damaged (it is only an optimisation).
    /// A cache of the state dir: nil when absent or damaged (its checksum notices; the scan
    /// rehashes and rewrites it).
    /// - Throws: `DriftError` when it is there but cannot be read (a symlink, permissions,
    ///   I/O): like `state.json`, never a silent full rehash on every run.
    func loadCache(name: String = "statcache") throws -> StatCache? {
        let f = file(name)
        var st = stat()
        if lstat(f, &st) != 0 && errno == ENOENT { return nil }
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

import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One path of a journal snapshot: what changed, and whether its content is in the tree.
/// Stored in the snapshot's record (`SnapshotRecord`) and, for people, as a message line
/// `Drift-Entry: <change> <class> <first-seen> <escaped path> <detail>`.
public struct SnapshotEntry: Sendable, Equatable {
    var change: ChangeKind
    var fileClass: FileClass
    var firstSeen: Date
    public var path: [UInt8]
    public var recorded: Recorded

    /// How a path is recorded.
    public enum Recorded: Sendable, Equatable {
        /// Its content is in the snapshot's tree.
        case content
        /// A secret: by name only.
        case secret
        /// Code carrying a secret's content: by name only.
        case secretContent
        /// By SHA-256 (nil: no content now, e.g. deleted) and why; a nil reason is the
        /// class's own (config and data never carry content).
        case hashOnly(Digest?, WithholdReason?)
        /// Many config or data files of one change directly in one directory (the entry's
        /// path, ending in `/`), recorded as one (`SnapshotSummary`, `drift.snapshot/2`).
        case summary(SnapshotSummary)

        /// The kind alone: `recorded` in the snapshot record and in report.json, the first
        /// word of the message line's detail — the one spelling of each.
        enum Kind: String, Codable, Sendable {
            case content
            case secret
            case secretContent = "secret-content"
            case hashOnly = "hash-only"
            case summary
        }

        var kind: Kind {
            switch self {
            case .content: return .content
            case .secret: return .secret
            case .secretContent: return .secretContent
            case .hashOnly: return .hashOnly
            case .summary: return .summary
            }
        }
    }

    /// How `Journal.record` records a change: in the tree, or withheld for `reason`.
    public init(_ c: FileChange, inTree: Bool, reason: WithholdReason?) {
        change = c.change
        fileClass = c.fileClass
        firstSeen = c.firstSeen.wholeSeconds
        path = c.path
        if inTree {
            recorded = .content
        } else if c.secret || c.secretContent || reason?.hidesHash == true {
            // A secret, or a copy of one's content: never its hash (a secret's hash is a guess oracle).
            let copy = c.secretContent || reason == .secretContent || reason == .secretsUnreadable
            recorded = copy ? .secretContent : .secret
        } else {
            let own = reason == nil || reason == .notCode(c.fileClass)
            // What stands for the hash of a file that was not read must not pass for its SHA-256.
            recorded = .hashOnly(c.new?.digest, c.overReadLimit ? .overReadLimit : own ? nil : reason)
        }
    }

    /// How many drifted paths this entry stands for: its summary's count, else 1.
    var pathCount: Int {
        if case .summary(let s) = recorded { return s.count }
        return 1
    }

    /// A summarised directory (`SnapshotSummary`), not one path.
    var isSummary: Bool {
        if case .summary = recorded { return true }
        return false
    }

    public init(change: ChangeKind, fileClass: FileClass, firstSeen: Date, path: [UInt8], recorded: Recorded) {
        self.change = change
        self.fileClass = fileClass
        self.firstSeen = firstSeen
        self.path = path
        self.recorded = recorded
    }

    /// The last field of the message line: `content`, `secret`, `secret-content`,
    /// `hash-only:<sha256|deleted>[:<reason, spaces as _>]`, `summary:<count>:<bytes>:<sha256>`.
    var detail: String {
        if case .summary(let s) = recorded {
            return "\(Recorded.Kind.summary.rawValue):\(s.count):\(s.bytes):\(s.digest.hex)"
        }
        guard case .hashOnly(let digest, let reason) = recorded else { return recorded.kind.rawValue }
        var d = "\(Recorded.Kind.hashOnly.rawValue):\(digest?.hex ?? "deleted")"
        if let reason { d += ":" + reason.text.replacingEvery(" ", with: "_") }
        return d
    }

    /// Reads `detail` back; nil when it is none of its forms.
    static func recorded(detail: Substring) -> Recorded? {
        let parts = detail.split(separator: ":", omittingEmptySubsequences: false)
        switch Recorded.Kind(rawValue: String(parts[0])) {
        case .content where parts.count == 1: return .content
        case .secret where parts.count == 1: return .secret
        case .secretContent where parts.count == 1: return .secretContent
        case .hashOnly where parts.count == 2 || parts.count == 3:
            let digest = Digest(hex: parts[1])
            guard digest != nil || parts[1] == "deleted" else { return nil }
            let reason = parts.count == 3 ? WithholdReason(text: String(parts[2]).replacingEvery("_", with: " ")) : nil
            return .hashOnly(digest, reason)
        case .summary where parts.count == 4:
            guard let n = Int(parts[1]), n > 0, let b = Int64(parts[2]), b >= 0,
                  let d = Digest(hex: parts[3]) else { return nil }
            return .summary(SnapshotSummary(count: n, bytes: b, digest: d))
        default:
            return nil
        }
    }

    public var line: String {
        "Drift-Entry: \(value)"
    }

    /// The `Drift-Entry` trailer's value.
    var value: String { value(seen: Timestamp.format(firstSeen)) }

    /// The value with `seen`, this entry's first-seen time already formatted.
    func value(seen: String) -> String {
        "\(change.rawValue) \(fileClass.rawValue) \(seen) \(PathBytes.escape(path)) \(detail)"
    }

    /// Reads a `Drift-Entry` trailer's value (old snapshots have no record: docs/journal.md).
    static func parse(value: String) -> SnapshotEntry? {
        let f = value.split(separator: " ")
        guard f.count == 5, let ch = ChangeKind(rawValue: String(f[0])), let cl = FileClass(rawValue: String(f[1])),
              let seen = Timestamp.parse(String(f[2])),
              let p = PathBytes.unescape(f[3].utf8), let r = recorded(detail: f[4]) else { return nil }
        return SnapshotEntry(change: ch, fileClass: cl, firstSeen: seen, path: p, recorded: r)
    }

    /// A line for people: what changed and why it is (not) in the patch.
    /// This entry as a follow-up commit changes it on top of the export it follows: a file
    /// the first export added and this one edits is `modified` there, not `added`.
    func since(_ c: GitTreeChange) -> SnapshotEntry {
        var e = self
        switch (c.old, c.new) {
        case (nil, _): e.change = .added
        case (_, nil): e.change = .deleted
        case let (old?, new?) where (old.mode == .symlink) != (new.mode == .symlink): e.change = .type
        case let (old?, new?) where old.id == new.id: e.change = .mode
        default: e.change = .modified
        }
        return e
    }

    var humanLine: String {
        let label = change.rawValue.padded(to: 9)
        let seen = Timestamp.format(firstSeen)
        var s = "  \(label)\(PathBytes.display(path))  (\(fileClass.rawValue), first seen \(seen))"
        switch recorded {
        case .content:
            break
        case .secret:
            s += " content withheld: secret"
        case .secretContent:
            s += " content withheld: secret content"
        case .hashOnly(let digest, let reason):
            // Not read (over 1 GiB): a fingerprint of size, mtime and extents, never called SHA-256.
            let label = reason == .overReadLimit ? "fingerprint" : "sha256"
            s += " \(label) \(digest?.hex ?? "deleted")"
            if let reason { s += ", \(reason.text)" }
        case .summary(let sum):
            s += " \(sum.count) files, \(sum.bytes) bytes, content digest \(sum.digest.hex)"
        }
        return s
    }
}

/// One pip change of a snapshot: `Drift-Pip: <change> <name> <from> <to> <url> <files>`
/// (`-` for none; name, url and files percent-escaped, files joined with `,`).
public struct SnapshotPip: Sendable {
    var change: PipChange

    public init(_ c: PipChange) { change = c }

    private static func esc(_ s: String?) -> String { s.map { PathBytes.escape(Array($0.utf8)) } ?? "-" }
    private static func unesc(_ s: Substring) -> String? {
        s == "-" ? nil : PathBytes.unescape(s.utf8).map { String(decoding: $0, as: UTF8.self) }
    }

    public var line: String {
        let c = change
        let files = c.files.isEmpty ? "-" : c.files.map { Self.esc($0) }.joined(separator: ",")
        return "\(c.change.rawValue) \(Self.esc(c.name)) \(Self.esc(c.from)) \(Self.esc(c.to)) \(Self.esc(c.url)) "
            + "\(Self.esc(c.sitePackages)) \(files)"
    }

    /// Reads a `Drift-Pip` trailer's value (old snapshots have no record: docs/journal.md).
    static func parse(value: String) -> SnapshotPip? {
        let f = value.split(separator: " ")
        guard f.count == 7, let kind = PipChangeKind(rawValue: String(f[0])) else { return nil }
        let files = f[6] == "-" ? [] : f[6].split(separator: ",").compactMap { unesc($0) }
        return SnapshotPip(PipChange(name: unesc(f[1]), change: kind, from: unesc(f[2]), to: unesc(f[3]),
                                     sitePackages: unesc(f[5]) ?? "", files: files, allowed: false, url: unesc(f[4])))
    }

    /// A line for people in commit messages.
    var humanLine: String {
        let c = change
        // Names, versions, URLs and file names come from site-packages metadata: quoted as names.
        let q = { (t: String) in PathBytes.display(text: t) }
        let change = c.change.rawValue.padded(to: 11)
        var s = "  " + change + (c.name.map(q) ?? "(files no RECORD owns)")
        if let f = c.from, let t = c.to, f != t {
            s += " \(q(f)) -> \(q(t))"
        } else if let v = c.to ?? c.from {
            s += " \(q(v))"
        }
        if let u = c.url { s += " from \(q(u))" }
        if !c.files.isEmpty {
            s += ": " + c.files.prefix(20).map(q).joined(separator: ", ") + (c.files.count > 20 ? ", ..." : "")
        }
        return s
    }
}

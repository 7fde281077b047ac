import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One path of a journal snapshot, as written in its commit message:
/// `Drift-Entry: <change> <class> <first-seen> <escaped path> <flags>`.
public struct SnapshotEntry: Sendable, Equatable {
    public var change: ChangeKind
    public var fileClass: FileClass
    public var firstSeen: String
    public var path: [UInt8]
    /// `content` (in the tree), `secret`, `secret-content` (code carrying a secret's content),
    /// `hash-only:<sha256>` or `withheld:<reason>`.
    public var detail: String

    public init(_ c: FileChange, inTree: Bool, reason: String?) {
        change = c.change
        fileClass = c.fileClass
        firstSeen = Timestamp.format(c.firstSeen)
        path = c.path
        if inTree {
            detail = "content"
        } else if c.secret {
            detail = c.secretContent || reason == DriftTreeBuilder.secretContent ? "secret-content" : "secret"
        } else {
            detail = "hash-only:\(c.new?.digest?.hex ?? "deleted")"
            if let r = reason, r != c.fileClass.rawValue { detail += ":" + r.replacingEvery(" ", with: "_") }
        }
    }

    public var line: String {
        "Drift-Entry: \(change.rawValue) \(fileClass.rawValue) \(firstSeen) \(PathBytes.escape(path)) \(detail)"
    }

    public static func parse(_ line: Substring) -> SnapshotEntry? {
        guard line.hasPrefix("Drift-Entry: ") else { return nil }
        let f = line.dropFirst("Drift-Entry: ".count).split(separator: " ")
        guard f.count == 5, let ch = ChangeKind(rawValue: String(f[0])), let cl = FileClass(rawValue: String(f[1])),
              let p = PathBytes.unescape(f[3].utf8) else { return nil }
        return SnapshotEntry(change: ch, fileClass: cl, firstSeen: String(f[2]), path: p, detail: String(f[4]))
    }

    init(change: ChangeKind, fileClass: FileClass, firstSeen: String, path: [UInt8], detail: String) {
        self.change = change
        self.fileClass = fileClass
        self.firstSeen = firstSeen
        self.path = path
        self.detail = detail
    }

    /// A line for people: what changed and why it is (not) in the patch.
    public var humanLine: String {
        let label = change.rawValue.padded(to: 9)
        var s = "  \(label)\(PathBytes.display(path))  (\(fileClass.rawValue), first seen \(firstSeen))"
        if detail == "secret" || detail == "secret-content" {
            s += detail == "secret" ? " content withheld: secret" : " content withheld: secret content"
        } else if detail.hasPrefix("hash-only:") {
            let parts = detail.split(separator: ":")
            s += " sha256 \(parts.count > 1 ? String(parts[1]) : "?")"
            if parts.count > 2 { s += ", \(parts[2].replacingEvery("_", with: " "))" }
        }
        return s
    }
}

/// One pip change of a snapshot: `Drift-Pip: <change> <name> <from> <to> <url> <files>`
/// (`-` for none; name, url and files percent-escaped, files joined with `,`).
public struct SnapshotPip: Sendable {
    public var change: PipChange

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

    public static func parse(_ line: Substring) -> SnapshotPip? {
        guard line.hasPrefix("Drift-Pip: ") else { return nil }
        let f = line.dropFirst("Drift-Pip: ".count).split(separator: " ")
        guard f.count == 7, let kind = PipChangeKind(rawValue: String(f[0])) else { return nil }
        let files = f[6] == "-" ? [] : f[6].split(separator: ",").compactMap { unesc($0) }
        return SnapshotPip(PipChange(name: unesc(f[1]), change: kind, from: unesc(f[2]), to: unesc(f[3]),
                                     sitePackages: unesc(f[5]) ?? "", files: files, allowed: false, url: unesc(f[4])))
    }

    /// A line for people in commit messages.
    public var humanLine: String {
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

import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The kinds of file drift.
public enum ChangeKind: String, Sendable, Codable, CaseIterable {
    /// Content or symlink target differs.
    case modified
    case added
    case deleted
    /// Only the exec bit differs.
    case mode
    /// file ↔ symlink ↔ directory ↔ special.
    case type
    /// A `__pycache__` pyc Python would load that is not what its source compiles to.
    case bytecode
}

/// What a path is on one side of a change.
public struct EntryState: Sendable, Equatable {
    // The two one-byte fields fill the optional digest's padding: 56 bytes, not 64 (two a
    // drifted path, a million paths: issue 28).
    var digest: Digest?
    var kind: FileKind
    var executable: Bool
    var size: Int64
    public var target: [UInt8]?

    init(kind: FileKind, executable: Bool, size: Int64, digest: Digest? = nil, target: [UInt8]? = nil) {
        self.digest = digest
        self.size = size
        self.target = target
        self.kind = kind
        self.executable = executable
    }

    /// git's mode for a file or symlink; nil for a directory or a special file.
    var gitMode: GitFileMode? {
        switch kind {
        case .symlink, .regular: return GitFileMode(symlink: kind == .symlink, executable: executable)
        default: return nil
        }
    }
}

/// How secret a drifted path is: one value, so "secret content" without "secret", or
/// "unchecked" without "secret content", cannot be written down.
public enum Secrecy: Sendable, Equatable {
    /// Not secret: its content may leave (if its class lets it).
    case none
    /// The policy names it secret (`secrets:` patterns): name and hash only, never content.
    case name
    /// Its content is a secret's (`SecretIndex`: a value, a format, a copy or link of a secret file).
    case content
    /// Withheld like secret content because a secret file could not be read to check it
    /// (`secret files unreadable`).
    case unchecked
}

/// One drifted path.
public struct FileChange: Sendable {
    // 72 bytes a change, not 136 (issue 28: a million added paths). One side inline (`new`,
    // or `old` when there is no new one) without its symlink target; the rest, which only
    // changes with two sides or a symlink have, in one object out of line (`Sides`).
    public var path: [UInt8]
    var firstSeen: Date
    private var digest: Digest
    private var size: Int64
    private var rest: Sides?
    private var shape: Shape
    private var kind: FileKind
    var change: ChangeKind
    var fileClass: FileClass
    var secrecy: Secrecy
    /// The file changed while it was read; its hash is not trusted (rescanned next time).
    var unstable: Bool = false
    /// Over `Scanner.readLimit` and added or resized: not read; `new.digest` stands for its
    /// size, mtime and data extents (`FileExtents`), not its content.
    var overReadLimit: Bool = false

    /// Which sides there are and the inline side's two flags.
    private struct Shape: OptionSet, Sendable {
        let rawValue: UInt8
        static let hasOld = Shape(rawValue: 1)
        static let hasNew = Shape(rawValue: 2)
        static let hasDigest = Shape(rawValue: 4)
        static let executable = Shape(rawValue: 8)
    }

    /// The old side when there is a new one too, and the inline side's symlink target.
    private final class Sides: Sendable {
        let old: EntryState?
        let target: [UInt8]?

        init(old: EntryState?, target: [UInt8]?) {
            self.old = old
            self.target = target
        }
    }

    /// What the path was (the manifest's entry); nil for `added`.
    public var old: EntryState? {
        get {
            guard shape.contains(.hasOld) else { return nil }
            return shape.contains(.hasNew) ? rest?.old : inline
        }
        set { store(old: newValue, new: new) }
    }

    /// What the path is; nil for `deleted`.
    public var new: EntryState? {
        get { shape.contains(.hasNew) ? inline : nil }
        set { store(old: old, new: newValue) }
    }

    /// The side held inline.
    private var inline: EntryState {
        EntryState(kind: kind, executable: shape.contains(.executable), size: size,
                   digest: shape.contains(.hasDigest) ? digest : nil, target: rest?.target)
    }

    private mutating func store(old: EntryState?, new: EntryState?) {
        var s: Shape = []
        if old != nil { s.insert(.hasOld) }
        if new != nil { s.insert(.hasNew) }
        let side = new ?? old
        let apart = new == nil ? nil : old
        digest = side?.digest ?? Digest(words: 0, 0, 0, 0)
        size = side?.size ?? 0
        kind = side?.kind ?? .regular
        if side?.digest != nil { s.insert(.hasDigest) }
        if side?.executable == true { s.insert(.executable) }
        shape = s
        let target = side?.target
        rest = apart == nil && target == nil ? nil : Sides(old: apart, target: target)
    }

    /// A change whose secrecy is the policy's verdict on its name (`secret`); the content
    /// checks raise it later (`SecretIndex`).
    init(path: [UInt8], change: ChangeKind, fileClass: FileClass, secret: Bool, old: EntryState?,
         new: EntryState?, firstSeen: Date, unstable: Bool = false, overReadLimit: Bool = false) {
        self.path = path
        self.change = change
        self.fileClass = fileClass
        secrecy = secret ? .name : .none
        self.firstSeen = firstSeen
        digest = Digest(words: 0, 0, 0, 0)
        size = 0
        shape = []
        kind = .regular
        store(old: old, new: new)
        self.unstable = unstable
        self.overReadLimit = overReadLimit
    }

    /// Secret by name or by content: no content or hash of it leaves.
    public var secret: Bool { secrecy != .none }
    /// Its content is (or may be, unchecked) a secret's.
    var secretContent: Bool { secrecy == .content || secrecy == .unchecked }
    /// A secret file could not be read to check it.
    var secretUnchecked: Bool { secrecy == .unchecked }
}

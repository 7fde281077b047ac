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
    // The one-byte fields last: 136 bytes a change, not 160 (issue 28).
    public var path: [UInt8]
    public var old: EntryState?
    public var new: EntryState?
    var firstSeen: Date
    var change: ChangeKind
    var fileClass: FileClass
    var secrecy: Secrecy
    /// The file changed while it was read; its hash is not trusted (rescanned next time).
    var unstable: Bool = false
    /// Over `Scanner.readLimit` and added or resized: not read; `new.digest` stands for its
    /// size, mtime and data extents (`FileExtents`), not its content.
    var overReadLimit: Bool = false

    /// A change whose secrecy is the policy's verdict on its name (`secret`); the content
    /// checks raise it later (`SecretIndex`).
    init(path: [UInt8], change: ChangeKind, fileClass: FileClass, secret: Bool, old: EntryState?,
         new: EntryState?, firstSeen: Date, unstable: Bool = false, overReadLimit: Bool = false) {
        self.path = path
        self.change = change
        self.fileClass = fileClass
        secrecy = secret ? .name : .none
        self.old = old
        self.new = new
        self.firstSeen = firstSeen
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

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
    var kind: FileKind
    var executable: Bool
    var size: Int64
    var digest: Digest?
    public var target: [UInt8]?

    /// git's mode for a file or symlink; nil for a directory or a special file.
    var gitMode: GitFileMode? {
        switch kind {
        case .symlink, .regular: return GitFileMode(symlink: kind == .symlink, executable: executable)
        default: return nil
        }
    }
}

/// One drifted path.
public struct FileChange: Sendable {
    public var path: [UInt8]
    var change: ChangeKind
    var fileClass: FileClass
    public var secret: Bool
    public var old: EntryState?
    public var new: EntryState?
    var firstSeen: Date
    /// The file changed while it was read; its hash is not trusted (rescanned next time).
    var unstable: Bool = false
    /// Code whose content is a secret's (`SecretIndex`): `secret` is set too.
    var secretContent: Bool = false
    /// Withheld like secret content because a secret file could not be read to check it
    /// (`secret files unreadable`): `secret` and `secretContent` are set too.
    var secretUnchecked: Bool = false
    /// Over `Scanner.readLimit` and added or resized: not read; `new.digest` stands for its
    /// size, mtime and data extents (`FileExtents`), not its content.
    var overReadLimit: Bool = false
}

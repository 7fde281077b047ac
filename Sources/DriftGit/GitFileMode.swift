import CLibGit2

/// The mode of a git tree entry: what the entry is, not a Unix permission.
public enum GitFileMode: UInt32, Sendable, CaseIterable {
    /// A directory (`40000`).
    case tree = 0o040000
    /// A regular file (`100644`).
    case blob = 0o100644
    /// An executable file (`100755`).
    case executable = 0o100755
    /// A symbolic link; its blob is the target (`120000`).
    case symlink = 0o120000
    /// A submodule's commit, a gitlink (`160000`).
    case commit = 0o160000

    /// git's spelling in tree objects, manifests, reports and journal lines: `40000`,
    /// `100644`, `100755`, `120000`, `160000`.
    public var octal: String { String(rawValue, radix: 8) }

    /// The mode `octal` spells, exactly; nil for any other bytes (no leading zero, no
    /// permission variants: a file format holds only the canonical spellings).
    /// - Parameter octal: the field's bytes.
    public init?(octal: some Collection<UInt8>) {
        guard let mode = Self.allCases.first(where: { $0.octal.utf8.elementsEqual(octal) }) else { return nil }
        self = mode
    }

    /// The mode of a regular file or symlink as a scan sees it.
    /// - Parameters:
    ///   - symlink: whether the entry is a symbolic link.
    ///   - executable: whether a regular file has an exec bit.
    public init(symlink: Bool, executable: Bool) {
        self = symlink ? .symlink : executable ? .executable : .blob
    }

    /// A raw mode from a tree object, normalised the way libgit2's `git_tree_entry_filemode`
    /// does (`100664` is a blob, any exec bit an executable), so every mode drift reads is
    /// one of the five.
    init(normalizing raw: UInt32) {
        let type = raw & 0o170000
        if type == 0o040000 {
            self = .tree
        } else if raw & 0o100 != 0 {
            self = .executable
        } else if type == 0o160000 {
            self = .commit
        } else if type == 0o120000 {
            self = .symlink
        } else {
            self = .blob
        }
    }

    /// Whether the entry is a directory.
    var isTree: Bool { self == .tree }

    var c: git_filemode_t { git_filemode_t(rawValue: rawValue) }
}

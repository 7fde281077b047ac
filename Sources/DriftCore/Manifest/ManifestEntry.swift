import DriftGit
import DriftSystem
/// One baked path: a regular file or a symlink (directories are implied, like git).
public struct ManifestEntry: Sendable, Equatable {
    public var path: [UInt8]
    var kind: FileKind
    var executable: Bool
    /// File size, or symlink target length.
    var size: Int64
    /// SHA-256 of the content, or of the symlink target bytes.
    var digest: Digest
    /// The symlink target (nil for files).
    public var target: [UInt8]?

    public init(path: [UInt8], kind: FileKind, executable: Bool, size: Int64, digest: Digest, target: [UInt8]? = nil) {
        self.path = path
        self.kind = kind
        self.executable = executable
        self.size = size
        self.digest = digest
        self.target = target
    }

    /// git's mode for this entry: 100644, 100755 or 120000.
    var gitMode: GitFileMode { GitFileMode(symlink: kind == .symlink, executable: executable) }
}

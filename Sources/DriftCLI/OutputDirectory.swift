import DriftCore
import DriftSystem

/// `--metrics` and `--log` name a file in a directory that must exist: drift creates the file,
/// never its directory (node_exporter's textfile directory is the image's to make: examples/).
/// Checked before anything is scanned, so the error names the directory and the flag, not the
/// temporary file the atomic write would have failed on.
enum OutputDirectory {
    /// - Throws: `DriftError` `.notFound` (exit 2) when `path`'s directory is not a directory.
    static func require(_ path: [UInt8]?, flag: String) throws {
        guard let path, path.contains(UInt8(ascii: "/")) else { return }
        let dir = WriteTarget.parentOf(bytes: path)
        // Resolved as the inside-the-root check resolves it (`W/nope/../ws/x` is `W/ws/x`), so
        // a target in the root is refused as that, not as a missing directory.
        let resolved = (try? WriteTarget.resolve(path)) ?? path
        if FileSystem.isDirectory(WriteTarget.parentOf(bytes: resolved)) { return }
        throw DriftError(.notFound, path: dir, "no such directory for \(flag) \(PathBytes.display(path)); "
            + "create it (mkdir -p -m 0755) or give a file in a directory that exists")
    }
}

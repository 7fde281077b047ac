#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Publishes a set of files as one directory, so a reader never sees a partial set: every
/// file is written (atomically, `0600`) into a stage directory `PARENT/<prefix><pid>-<random>`
/// next to the output, then the stage is renamed to the output (an existing output directory
/// gets the files renamed in one by one). A stage left by a process that died before the
/// move (SIGKILL, power loss) is removed by the next publish into the same parent.
public struct StagedDirectory {
    /// The stage directories' name prefix, e.g. `.drift-export-`.
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Writes `files` (name, bytes) into `output` (created `0700`).
    public func publish(_ files: [(name: String, bytes: [UInt8])], to output: String) throws {
        try publish(files, to: Array(output.utf8))
    }

    /// `publish(_:to:)` into a directory named by bytes (a name that is not UTF-8 included).
    public func publish(_ files: [(name: String, bytes: [UInt8])], to output: [UInt8]) throws {
        let parent = WriteTarget.parentOf(bytes: output)
        try AtomicFile.makeDirectory(parent)
        removeStale(in: parent)
        let suffix = UInt32.random(in: 0...UInt32.max)
        let stage = PathBytes.join(parent, Array("\(prefix)\(getpid())-\(suffix)".utf8))
        try AtomicFile.makeDirectory(stage, mode: 0o700)
        defer { try? FileSystem.removeTree(stage) }
        for (name, bytes) in files {
            try AtomicFile.write(bytes, to: PathBytes.join(stage, Array(name.utf8)), mode: 0o600)
        }
        if FileSystem.isAbsent(output) {
            if (try? FileSystem.rename(stage, to: output)) != nil {
                try? FileSystem.setPermissions(output, 0o700)
                return
            }
            try AtomicFile.makeDirectory(output, mode: 0o700)
        }
        for (name, _) in files {
            let target = PathBytes.join(output, Array(name.utf8))
            do { try FileSystem.rename(PathBytes.join(stage, Array(name.utf8)), to: target) } catch {
                throw DriftError(.io, path: target, "cannot move into place", errno: error)
            }
        }
    }

    /// Removes `PARENT/<prefix><pid>-…` directories of ours whose process is gone.
    public func removeStale(in parent: String) {
        removeStale(in: Array(parent.utf8))
    }

    /// `removeStale(in:)` of a parent named by bytes.
    public func removeStale(in parent: [UInt8]) {
        // Names drift stages are ASCII (prefix, pid, random hex): any other name is not ours.
        for bytes in directoryEntries(parent) ?? [] {
            guard let name = String(validating: bytes, as: UTF8.self), name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
            if pid == getpid() || !SystemProcess.isGone(pid) { continue }
            let path = PathBytes.join(parent, bytes)
            var st = stat()
            guard withCPath(path, { lstat($0, &st) }) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else { continue }
            try? FileSystem.removeTree(path)
        }
    }
}

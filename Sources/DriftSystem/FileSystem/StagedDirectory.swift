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
        let parent = WriteTarget.parentOf(output)
        try AtomicFile.makeDirectory(parent)
        removeStale(in: parent)
        let suffix = UInt32.random(in: 0...UInt32.max)
        let stage = (parent == "/" ? "" : parent) + "/\(prefix)\(getpid())-\(suffix)"
        try AtomicFile.makeDirectory(stage, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: stage) }
        for (name, bytes) in files { try AtomicFile.write(bytes, to: stage + "/" + name, mode: 0o600) }
        if FileSystem.isAbsent(output) {
            if rename(stage, output) == 0 {
                _ = chmod(output, 0o700)
                return
            }
            try AtomicFile.makeDirectory(output, mode: 0o700)
        }
        for (name, _) in files where rename(stage + "/" + name, output + "/" + name) != 0 {
            throw DriftError(.io, path: output + "/" + name, "cannot move into place", errno: .current)
        }
    }

    /// Removes `PARENT/<prefix><pid>-…` directories of ours whose process is gone.
    public func removeStale(in parent: String) {
        // Names drift stages are ASCII (prefix, pid, random hex): any other name is not ours.
        for bytes in directoryEntries(parent) ?? [] {
            guard let name = String(validating: bytes, as: UTF8.self), name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
            if pid == getpid() || !SystemProcess.isGone(pid) { continue }
            let path = (parent == "/" ? "" : parent) + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

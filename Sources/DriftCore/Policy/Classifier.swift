import DriftGit
import DriftSystem
/// Applies a policy to paths, remembering per directory which lists matched it so a
/// file's parents are not re-matched for every file.
public final class Classifier {
    public let policy: Policy
    private struct Flags { var ignore, code, config, data, secret: Bool }
    private var dirs: [[UInt8]: Flags] = [:]
    // A sorted walk visits a directory's files one after another: remember the last parent.
    private var lastDir: [UInt8]?
    private var lastDirFlags = Flags(ignore: false, code: false, config: false, data: false, secret: false)

    public init(policy: Policy) { self.policy = policy }

    private func flags(_ path: [UInt8], isDirectory: Bool) -> Flags {
        let parent: Flags
        if let s = path.lastIndex(of: UInt8(ascii: "/")) {
            if let d = lastDir, d.count == s, path.starts(with: d) {
                parent = lastDirFlags
            } else {
                let d = Array(path[0..<s])
                parent = dirFlags(d)
                lastDir = d
                lastDirFlags = parent
            }
        } else {
            parent = Flags(ignore: false, code: false, config: false, data: false, secret: false)
        }
        let gitOwn = policy.ignoreGitDirs && Self.isGitOwnName(path, isDirectory: isDirectory)
        // The name is found once for every list's patterns (asked for every entry of a walk).
        return path.withUnsafeBufferPointer { whole in
            let name = PathPattern.name(of: whole)
            func matched(_ list: PatternList) -> Bool { list.matchesSelf(whole, name: name, isDirectory: isDirectory) }
            return Flags(
                ignore: parent.ignore || gitOwn || matched(policy.ignore),
                code: parent.code || matched(policy.code),
                config: parent.config || matched(policy.config),
                data: parent.data || matched(policy.data),
                secret: parent.secret || matched(policy.secrets))
        }
    }

    private func dirFlags(_ dir: [UInt8]) -> Flags {
        if let f = dirs[dir] { return f }
        let f = flags(dir, isDirectory: true)
        dirs[dir] = f
        return f
    }

    /// Whether the entry's own name is one git refuses as a tree entry (a `.git` spelling):
    /// git never tracks such an entry, and a worktree link or submodule's `.git` file is one.
    /// libgit2 decides; the first-byte test only spares it the names it can never refuse
    /// (each of its `.git` rules starts with `.`, `g`/`G` or, for HFS, a non-ASCII code point).
    static func isGitOwnName(_ path: [UInt8], isDirectory: Bool) -> Bool {
        let start = path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
        guard start < path.count else { return false }
        let first = path[start]
        guard first == UInt8(ascii: ".") || first == UInt8(ascii: "g") || first == UInt8(ascii: "G")
            || first >= 0x80 else { return false }
        return !GitNames.isStorableName(Array(path[start...]), mode: isDirectory ? .tree : .blob)
    }

    /// The class of a path: ignore, then an explicit code list, then config, then data,
    /// else code.
    func classify(_ path: [UInt8], isDirectory: Bool = false) -> FileClass {
        classifyAll(path, isDirectory: isDirectory).0
    }

    /// Class and secrecy in one pass (the walk needs both for every entry).
    func classifyAll(_ path: [UInt8], isDirectory: Bool) -> (FileClass, secret: Bool) {
        let f = flags(path, isDirectory: isDirectory)
        let c: FileClass = f.ignore ? .ignore : f.code ? .code : f.config ? .config : f.data ? .data : .code
        return (c, f.secret)
    }

    /// Whether the path's content must never leave the box.
    func isSecret(_ path: [UInt8], isDirectory: Bool = false) -> Bool {
        flags(path, isDirectory: isDirectory).secret
    }

    /// Whether a walk should enter this directory (ignored trees are skipped whole).
    func shouldDescend(_ dir: [UInt8]) -> Bool {
        !dirFlags(dir).ignore
    }
}

/// Applies a policy to paths, remembering per directory which lists matched it so a
/// file's parents are not re-matched for every file.
public final class Classifier {
    public let policy: Policy
    private struct Flags { var ignore, code, config, data, secret: Bool }
    private var dirs: [[UInt8]: Flags] = [:]

    public init(policy: Policy) { self.policy = policy }

    private func flags(_ path: [UInt8], isDirectory: Bool) -> Flags {
        let parent: Flags
        if let s = path.lastIndex(of: UInt8(ascii: "/")) {
            parent = dirFlags(Array(path[0..<s]))
        } else {
            parent = Flags(ignore: false, code: false, config: false, data: false, secret: false)
        }
        return Flags(
            ignore: parent.ignore || policy.ignore.matchesSelf(path, isDirectory: isDirectory),
            code: parent.code || policy.code.matchesSelf(path, isDirectory: isDirectory),
            config: parent.config || policy.config.matchesSelf(path, isDirectory: isDirectory),
            data: parent.data || policy.data.matchesSelf(path, isDirectory: isDirectory),
            secret: parent.secret || policy.secrets.matchesSelf(path, isDirectory: isDirectory))
    }

    private func dirFlags(_ dir: [UInt8]) -> Flags {
        if let f = dirs[dir] { return f }
        let f = flags(dir, isDirectory: true)
        dirs[dir] = f
        return f
    }

    /// The class of a path: ignore, then an explicit code list, then config, then data,
    /// else code.
    public func classify(_ path: [UInt8], isDirectory: Bool = false) -> FileClass {
        let f = flags(path, isDirectory: isDirectory)
        if f.ignore { return .ignore }
        if f.code { return .code }
        if f.config { return .config }
        if f.data { return .data }
        return .code
    }

    /// Whether the path's content must never leave the box.
    public func isSecret(_ path: [UInt8], isDirectory: Bool = false) -> Bool {
        flags(path, isDirectory: isDirectory).secret
    }

    /// Whether a walk should enter this directory (ignored trees are skipped whole).
    public func shouldDescend(_ dir: [UInt8]) -> Bool {
        !dirFlags(dir).ignore
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Where drift writes (state dir, export dir, log, metrics, manifest dir, stage dirs), and
/// the check that it is not inside the scanned root — by device and inode, not by string.
///
/// A path is resolved the way the kernel will resolve it when drift creates it: symlinks of
/// existing components are followed, and `..` after a component that does not exist yet
/// climbs back over it (`W/nope/../ws` is `W/ws`). Then every ancestor of the deepest
/// existing directory, up to `/`, is compared with the root's identity.
public enum WriteTarget {
    /// The absolute path `path` will denote once its missing components are created.
    public static func resolve(_ path: String) throws -> String {
        let absolute = path.hasPrefix("/") ? path : WorkingDirectory.path() + "/" + path
        var real = "/"
        var pending: [Substring] = []
        let parts = absolute.split(separator: "/", omittingEmptySubsequences: true)
        for (i, part) in parts.enumerated() {
            if part == "." { continue }
            if part == ".." {
                if pending.isEmpty { real = parentOf(real) } else { pending.removeLast() }
                continue
            }
            if !pending.isEmpty {
                pending.append(part)
                continue
            }
            let candidate = (real == "/" ? "" : real) + "/" + part
            var st = stat()
            if lstat(candidate, &st) != 0 {
                pending.append(part)
                continue
            }
            let isLast = i == parts.count - 1
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                real = candidate
            case S_IFLNK:
                guard let target = canonicalPath(candidate) else {
                    throw DriftError(.unsafeTarget, path: path,
                        "\(candidate) is a symlink to nowhere; give a real path")
                }
                real = target
            default:
                guard isLast else { throw DriftError(.unsafeTarget, path: path, "\(candidate) is not a directory") }
                real = candidate
            }
        }
        return pending.isEmpty ? real : (real == "/" ? "" : real) + "/" + pending.joined(separator: "/")
    }

    /// Resolves `target` and throws when it is the root or lies below it (by identity, so
    /// `..`, symlinks and bind-mount-free aliases all count). Returns the resolved path,
    /// which is what the caller must write to.
    @discardableResult
    public static func refuseInside(root: String, target: String, what: String) throws -> String {
        let resolved = try resolve(target)
        var rootStat = stat()
        guard stat(root, &rootStat) == 0 else { return resolved }
        // The deepest existing directory on the way to the target.
        var probe = resolved
        var st = stat()
        while stat(probe, &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR {
            if probe == "/" { break }
            probe = parentOf(probe)
        }
        var fd = open(probe, oPath | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            throw DriftError(.unsafeTarget, path: target, "cannot check where the \(what) is", errno: .current)
        }
        defer { close(fd) }
        while true {
            var here = stat()
            guard fstat(fd, &here) == 0 else {
                throw DriftError(.unsafeTarget, path: target, "cannot check where the \(what) is", errno: .current)
            }
            if here.st_dev == rootStat.st_dev && here.st_ino == rootStat.st_ino {
                throw DriftError(.unsafeTarget, path: target, "the \(what) is inside the scanned root \(root); "
                                 + "drift never writes under the root")
            }
            let up = openat(fd, "..", oPath | O_DIRECTORY | O_CLOEXEC)
            if up < 0 {
                throw DriftError(.unsafeTarget, path: target, "cannot check where the \(what) is", errno: .current)
            }
            var parent = stat()
            let top = fstat(up, &parent) == 0 && parent.st_dev == here.st_dev && parent.st_ino == here.st_ino
            close(fd)
            fd = up
            if top { break }
        }
        return resolved
    }

    /// The lexical parent of a canonical absolute path.
    public static func parentOf(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/"), slash != p.startIndex else { return "/" }
        return String(p[..<slash])
    }
}

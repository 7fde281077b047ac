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
    /// The absolute path `path` will denote once its missing components are created. When
    /// that path is not UTF-8 (a working directory whose name is not), `path` itself is
    /// returned: it names the same place, and a repaired name would be another.
    public static func resolve(_ path: String) throws -> String {
        String(validating: try resolve(bytes: Array(path.utf8), shown: Array(path.utf8)), as: UTF8.self) ?? path
    }

    /// `resolve` on bytes: the working directory and every component are taken as the kernel
    /// has them, never decoded.
    public static func resolve(_ path: [UInt8]) throws -> [UInt8] {
        try resolve(bytes: path, shown: path)
    }

    static func resolve(bytes path: [UInt8], shown: [UInt8]) throws -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let absolute = path.first == slash ? path : WorkingDirectory.bytes() + [slash] + path
        var real: [UInt8] = [slash]
        var pending: [ArraySlice<UInt8>] = []
        let parts = absolute.split(separator: slash, omittingEmptySubsequences: true)
        for (i, part) in parts.enumerated() {
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) {
                if pending.isEmpty { real = parentOf(bytes: real) } else { pending.removeLast() }
                continue
            }
            if !pending.isEmpty {
                pending.append(part)
                continue
            }
            let candidate = (real == [slash] ? [] : real) + [slash] + part
            var st = stat()
            if withCPath(candidate, { lstat($0, &st) }) != 0 {
                pending.append(part)
                continue
            }
            let isLast = i == parts.count - 1
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                real = candidate
            case S_IFLNK:
                guard let target = canonicalPath(candidate) else {
                    throw DriftError(.unsafeTarget, path: shown,
                                     "\(PathBytes.display(candidate)) is a symlink to nowhere; give a real path")
                }
                real = target
            default:
                guard isLast else {
                    throw DriftError(.unsafeTarget, path: shown,
                                     "\(PathBytes.display(candidate)) is not a directory")
                }
                real = candidate
            }
        }
        if pending.isEmpty { return real }
        return (real == [slash] ? [] : real) + [slash] + Array(pending.joined(separator: [slash]))
    }

    /// Resolves `target` and throws when it is the root or lies below it (by identity, so
    /// `..`, symlinks and bind-mount-free aliases all count). Returns the resolved path,
    /// which is what the caller must write to (`target` itself when the resolved path is not
    /// UTF-8: the same place, named as given).
    /// - Parameter root: the root's path bytes (a root whose name is not UTF-8 works too).
    @discardableResult
    public static func refuseInside(root: [UInt8], target: String, what: String) throws -> String {
        let resolved = try refuseInside(root: root, targetBytes: Array(target.utf8), what: what)
        return String(validating: resolved, as: UTF8.self) ?? target
    }

    /// `refuseInside(root:target:what:)` for a target held as bytes (a name that is not UTF-8
    /// included); returns the resolved path's bytes, which is what the caller must write to.
    @discardableResult
    public static func refuseInside(root: [UInt8], targetBytes target: [UInt8], what: String) throws -> [UInt8] {
        let resolved = try resolve(bytes: target, shown: target)
        let answer = resolved
        var rootStat = stat()
        guard !root.contains(0), withCPath(root, { stat($0, &rootStat) }) == 0 else { return answer }
        // The deepest existing directory on the way to the target.
        var probe = resolved
        var st = stat()
        while withCPath(probe, { stat($0, &st) }) != 0 || (st.st_mode & S_IFMT) != S_IFDIR {
            if probe == [UInt8(ascii: "/")] { break }
            probe = parentOf(bytes: probe)
        }
        var fd = withCPath(probe) { open($0, oPath | O_DIRECTORY | O_CLOEXEC) }
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
                throw DriftError(.unsafeTarget, path: target,
                                 "the \(what) is inside the scanned root \(PathBytes.display(root)); "
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
        return answer
    }

    /// The lexical parent of a path: of a canonical absolute path, or `.` for one relative
    /// component.
    public static func parentOf(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// `parentOf(_:)` of a byte path.
    public static func parentOf(bytes p: [UInt8]) -> [UInt8] {
        guard let slash = p.lastIndex(of: UInt8(ascii: "/")), slash != 0 else { return [UInt8(ascii: "/")] }
        return Array(p[..<slash])
    }
}

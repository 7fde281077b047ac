#if canImport(Glibc)
import Glibc
#endif

extension RootDirectory {
    /// The `lstat` of a path below the root, its parent opened beneath the root with no
    /// symlink at any component (a component that is a symlink fails with ELOOP, EXDEV or ENOTDIR).
    public func lstat(_ relative: [UInt8]) -> Result<FileStat, Errno> {
        let parent: (Int32, [UInt8])
        switch openParent(relative) {
        case .success(let p): parent = p
        case .failure(let e): return .failure(e)
        }
        defer { close(parent.0) }
        var st = stat()
        let rc = withCPath(parent.1) { fstatat(parent.0, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? .success(FileStat(st)) : .failure(Errno(errno))
    }

    /// Calls `body` with an `O_PATH` descriptor of the directory `relative` (opened beneath the
    /// root, no symlink at any component), closed when `body` returns; it must not keep it.
    public func withDirectory<R>(_ relative: [UInt8], _ body: (Int32) -> R) -> Result<R, Errno> {
        switch open(relative, flags: oPath | O_DIRECTORY) {
        case .success(let fd):
            defer { close(fd) }
            return .success(body(fd))
        case .failure(let e):
            return .failure(e)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// Removes `path` and everything below it (a directory drift made in a trusted place: a
    /// staged or replaced repository, a set-aside journal), by the bytes of each name, never
    /// following a symbolic link (a link is removed, not what it points to). Absent is fine.
    /// - Throws: the errno of the first removal that failed.
    public static func removeTree(_ path: [UInt8]) throws(Errno) {
        var st = Glibc.stat()
        guard withCPath(path, { Glibc.lstat($0, &st) }) == 0 else {
            if errno == ENOENT { return }
            throw .current
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in directoryEntries(path) ?? [] { try removeTree(PathBytes.join(path, name)) }
            guard withCPath(path, { rmdir($0) }) == 0 || errno == ENOENT else { throw .current }
        } else {
            guard withCPath(path, { Glibc.unlink($0) }) == 0 || errno == ENOENT else { throw .current }
        }
    }
}

extension Array where Element == UInt8 {
    /// These bytes with `text`'s UTF-8 after them: a file under a directory held as bytes
    /// (`dir.appending(text: "/objects")`), nothing decoded.
    public func appending(text: String) -> [UInt8] { self + Array(text.utf8) }
}

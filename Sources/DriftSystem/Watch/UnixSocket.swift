#if canImport(Glibc)
import Glibc
#endif
import CSys

/// A local stream socket by path (`AF_UNIX`): the `drift watch` query channel. Every
/// descriptor is close-on-exec; the listener is non-blocking (the event loop polls it).
public final class UnixSocket {
    public let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Who is at the other end of a connection (`SO_PEERCRED`: the kernel's word, taken at
    /// `connect`/`listen`, not anything the peer says).
    public struct Peer: Sendable, Equatable {
        public var pid: Int32
        public var uid: UInt32
    }

    /// Listens on `path` (an old socket file there is replaced), mode 0600.
    /// - Throws: the errno; `ENAMETOOLONG` when the path does not fit `sun_path`.
    public static func listen(path: String) throws(Errno) -> UnixSocket {
        try listen(path: Array(path.utf8))
    }

    /// `listen(path:)` of a byte path (a name that is not UTF-8 included).
    public static func listen(path: [UInt8]) throws(Errno) -> UnixSocket {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | Int32(SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { throw Errno.current }
        let s = UnixSocket(fd: fd)
        // Only a socket may be replaced: unlink refuses nothing, so check the type first.
        var st = stat()
        if withCPath(path, { lstat($0, &st) }) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw Errno(EEXIST) }
            _ = withCPath(path) { unlink($0) }
        }
        // Created 0600 whatever the umask; the state dir (0700) already keeps others out.
        let old = umask(0o177)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        umask(old)
        if r != 0 { throw Errno.current }
        if Glibc.listen(fd, 16) != 0 { throw Errno.current }
        return s
    }

    /// Removes the socket file at `path` (nothing else: a file of another type stays).
    public static func remove(path: String) {
        remove(path: Array(path.utf8))
    }

    /// `remove(path:)` of a byte path.
    public static func remove(path: [UInt8]) {
        var st = stat()
        if withCPath(path, { lstat($0, &st) }) == 0, st.st_mode & S_IFMT == S_IFSOCK {
            _ = withCPath(path) { unlink($0) }
        }
    }

    /// Connects to `path`; fails at once when nobody listens (`ECONNREFUSED`, `ENOENT`).
    public static func connect(path: String) throws(Errno) -> UnixSocket {
        try connect(path: Array(path.utf8))
    }

    /// `connect(path:)` of a byte path.
    public static func connect(path: [UInt8]) throws(Errno) -> UnixSocket {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw Errno.current }
        let s = UnixSocket(fd: fd)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if r != 0 { throw Errno.current }
        return s
    }

    private static func address(_ bytes: [UInt8]) throws(Errno) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity, !bytes.contains(0) else { throw Errno(ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    /// A pending connection, or nil when none is waiting.
    public func accept() -> UnixSocket? {
        while true {
            let c = drift_accept_cloexec(fd)
            if c >= 0 {
                // A peer that stops reading must not hold the event loop: sends give up after 5 s.
                var tv = timeval(tv_sec: 5, tv_usec: 0)
                _ = setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                return UnixSocket(fd: c)
            }
            if errno == EINTR { continue }
            return nil
        }
    }

    /// The peer of a connected socket.
    public func peer() -> Peer? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        guard drift_peer_cred(fd, &pid, &uid) == 0 else { return nil }
        return Peer(pid: pid, uid: uid)
    }

    /// Writes every byte (blocking); false when the peer went away.
    public func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Reads until the peer closes or shuts down its writing side, `limit` bytes are in, or
    /// `timeout` seconds pass in all; nil on timeout, error or overflow.
    public func receiveAll(limit: Int, timeout: Double) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        let end = SystemProcess.monotonicSeconds() + timeout
        while true {
            let left = end - SystemProcess.monotonicSeconds()
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left * 1000, 3_600_000).rounded(.up)))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += buf[0..<n]
            if out.count > limit { return nil }
        }
    }

    /// Reads one line (up to `\n`, which is dropped), at most `limit` bytes, within `timeout`.
    /// For a peer that sends exactly one line and then waits (bytes after the newline are lost).
    public func receiveLine(limit: Int, timeout: Double) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        let end = SystemProcess.monotonicSeconds() + timeout
        while out.count <= limit {
            let left = end - SystemProcess.monotonicSeconds()
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left * 1000, 3_600_000).rounded(.up)))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            if let nl = buf[0..<n].firstIndex(of: UInt8(ascii: "\n")) { return out + buf[0..<nl] }
            out += buf[0..<n]
        }
        return nil
    }

    /// No more bytes from this side (the peer's `receiveAll` ends).
    public func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CSys

/// How a path below the root is resolved. Both refuse a symlink at any component and any
/// step out of the root; they differ only in which kernel interface does the refusing.
public enum ResolveStrategy: Sendable, Equatable {
    /// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)` when the
    /// kernel has it, else the component chain (decided once per root).
    case automatic
    /// `openat2` only (Linux ≥ 5.6).
    case openat2
    /// One `openat(O_NOFOLLOW | O_DIRECTORY)` per directory component, each relative to
    /// the descriptor of its parent.
    case componentChain
}

/// An open directory that every file below it is resolved against: the one primitive
/// drift opens files under a scanned tree with (docs/threat-model.md, point 1).
///
/// A path is never handed to the kernel whole from `/`: it is resolved relative to this
/// descriptor with no symlink at any component, so a directory swapped for a symlink
/// mid-scan (`renameat2(RENAME_EXCHANGE)`) makes the open fail instead of leaving the root.
/// Paths longer than `PATH_MAX` are resolved in pieces, each relative to the last.
public final class RootDirectory: Sendable {
    // Immutable after init; openat on a shared descriptor is thread-safe.
    public let path: [UInt8]
    let fd: Int32
    let openError: Int32
    public let strategy: ResolveStrategy

    /// Opens `path` (which may itself contain symlinks: it is the trusted part) as the root.
    public init(path: [UInt8], strategy: ResolveStrategy = .automatic) {
        self.path = path
        let target = path.isEmpty ? [UInt8(ascii: "/")] : path
        let fd = withCPath(target) { Glibc.open($0, oPath | O_DIRECTORY | O_CLOEXEC) }
        self.fd = fd
        openError = fd < 0 ? errno : 0
        if strategy == .automatic && fd >= 0 {
            let probe = drift_openat2_beneath(fd, ".", oPath | O_CLOEXEC)
            let e = errno
            if probe >= 0 { close(probe) }
            // ENOSYS: kernel before 5.6; EPERM: older container seccomp profiles.
            self.strategy = probe < 0 && (e == ENOSYS || e == EPERM) ? .componentChain : .openat2
        } else {
            self.strategy = strategy == .automatic ? .openat2 : strategy
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Longest piece handed to one `openat2` (the kernel refuses names of PATH_MAX or more).
    static let pieceLimit = 3_800

    /// Opens `rel` below the root with `flags` (O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
    /// O_NOCTTY are always added). Returns the descriptor or the errno.
    public func open(_ rel: [UInt8], flags: Int32) -> Result<Int32, Errno> {
        if fd < 0 { return .failure(Errno(openError)) }
        // openat2 refuses any flag but these next to O_PATH (EINVAL).
        let always = O_CLOEXEC | O_NOFOLLOW
        let all = flags & oPath != 0 ? flags | always : flags | always | O_NONBLOCK | O_NOCTTY
        // The common case: the path as given is the one piece `beneath` would join from its
        // components, so it is handed over as is (no array per component for every file opened).
        if strategy != .componentChain && !rel.isEmpty && rel.count <= Self.pieceLimit && Self.isPlain(rel) {
            let r = withCPath(rel) { drift_openat2_beneath(fd, $0, all) }
            return r < 0 ? .failure(Errno(errno)) : .success(r)
        }
        guard let parts = Self.components(rel) else { return .failure(Errno(EXDEV)) }
        if parts.isEmpty { return reopen(fd, [UInt8(ascii: ".")], all) }
        switch strategy {
        case .componentChain:
            return chain(parts, all)
        case .openat2, .automatic:
            return beneath(parts, all)
        }
    }

    /// Opens a directory below the root (for walking it).
    func openDirectory(_ rel: [UInt8]) -> Result<Int32, Errno> {
        open(rel, flags: O_RDONLY | O_DIRECTORY)
    }

    /// The parent directory of `rel` (opened beneath the root) and `rel`'s last name.
    public func openParent(_ rel: [UInt8]) -> Result<(Int32, [UInt8]), Errno> {
        guard let parts = Self.components(rel), let last = parts.last else { return .failure(Errno(EINVAL)) }
        let dir = Array(rel[..<(rel.count - last.count)].dropLast())
        return open(dir, flags: oPath | O_DIRECTORY).map { ($0, last) }
    }

    /// Whether `components` would accept `rel`: no component empty, `.` or `..`.
    static func isPlain(_ rel: [UInt8]) -> Bool {
        rel.withUnsafeBufferPointer { b in
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == UInt8(ascii: "/") {
                let n = i - start
                if n == 0 || (b[start] == 0x2E && (n == 1 || (n == 2 && b[start + 1] == 0x2E))) { return false }
                start = i + 1
            }
            return true
        }
    }

    /// Splits on `/`; nil when a component is empty, `.` or `..` (never produced by a walk).
    static func components(_ rel: [UInt8]) -> [[UInt8]]? {
        if rel.isEmpty { return [] }
        var out: [[UInt8]] = []
        for part in rel.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if part.isEmpty || part == [0x2E] || part == [0x2E, 0x2E] { return nil }
            out.append(Array(part))
        }
        return out
    }

    private func reopen(_ dir: Int32, _ name: [UInt8], _ flags: Int32) -> Result<Int32, Errno> {
        let r = withCPath(name) { openat(dir, $0, flags) }
        return r < 0 ? .failure(Errno(errno)) : .success(r)
    }

    private func chain(_ parts: [[UInt8]], _ flags: Int32) -> Result<Int32, Errno> {
        var cur = fd
        defer {
            if cur != fd { close(cur) }
        }
        for part in parts.dropLast() {
            let next = withCPath(part) { openat(cur, $0, oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if next < 0 { return .failure(Errno(errno)) }
            if cur != fd { close(cur) }
            cur = next
        }
        return reopen(cur, parts[parts.count - 1], flags)
    }

    private func beneath(_ parts: [[UInt8]], _ flags: Int32) -> Result<Int32, Errno> {
        var cur = fd
        defer {
            if cur != fd { close(cur) }
        }
        var i = 0
        while true {
            // The longest run of components that fits one openat2 call.
            var piece: [UInt8] = parts[i]
            var j = i + 1
            while j < parts.count && piece.count + 1 + parts[j].count <= Self.pieceLimit {
                piece += [UInt8(ascii: "/")] + parts[j]
                j += 1
            }
            let last = j == parts.count
            let r = withCPath(piece) { drift_openat2_beneath(cur, $0, last ? flags : oPath | O_DIRECTORY | O_CLOEXEC) }
            if r < 0 { return .failure(Errno(errno)) }
            if last { return .success(r) }
            if cur != fd { close(cur) }
            cur = r
            i = j
        }
    }
}

/// `O_PATH`: a descriptor that only anchors lookups (never reads).
public let oPath = Int32(DRIFT_O_PATH)

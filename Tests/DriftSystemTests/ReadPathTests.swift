@testable import DriftSystem
import Foundation
import DriftTestSupport
import Testing

/// The per-file fast paths of a scan's reads: one `openat2` for a plain path, the NUL-terminated
/// copy on the stack, `readWholeFile` into an uninitialised buffer. Same answers as before.
@Suite struct ReadPathTests {
    @Test("RootDirectory: a path is opened in one piece exactly when the component split accepts it")
    func plainMatchesComponents() {
        let cases = ["a", "a/b", "a/b/c.py", ".a", "..a", "a..", "a/.b/c", "...", "a/...",
                     ".", "..", "a/.", "a/..", "./a", "../a", "a//b", "/a", "a/", "", "a/./b", "a/../b"]
        for c in cases {
            let rel = Array(c.utf8)
            #expect(RootDirectory.isPlain(rel) == (RootDirectory.components(rel) != nil && !rel.isEmpty),
                    "\(c)")
        }
    }

    @Test("RootDirectory: a symlink at any component or `..` is refused, both strategies, plain or long paths")
    func refusalsUnchanged() throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.sub("root/d/e"), withIntermediateDirectories: true)
        try write(dir.sub("root/d/e/f"), "x")
        try write(dir.sub("outside"), "secret")
        try FileManager.default.createSymbolicLink(atPath: dir.sub("root/link"), withDestinationPath: dir.path)
        try FileManager.default.createSymbolicLink(atPath: dir.sub("root/d/file-link"),
                                                   withDestinationPath: dir.sub("outside"))
        // A path longer than one openat2 piece still goes through the split.
        let long = Array(repeating: "x", count: 1_300).joined(separator: "/")
        for strategy in [ResolveStrategy.openat2, .componentChain] {
            let root = RootDirectory(path: Array(dir.sub("root").utf8), strategy: strategy)
            guard case .success(let fd) = root.open(Array("d/e/f".utf8), flags: O_RDONLY) else {
                Issue.record("d/e/f did not open (\(strategy))")
                continue
            }
            close(fd)
            for bad in ["link/outside", "d/file-link", "d/../../outside", "d/./e/f", long] {
                if case .success(let fd) = root.open(Array(bad.utf8), flags: O_RDONLY) {
                    close(fd)
                    Issue.record("\(bad.prefix(40)) opened (\(strategy))")
                }
            }
        }
    }

    @Test("readWholeFile: the exact bytes at sizes 0, 1, 65,537 and 3 MiB; over the limit refused")
    func readWholeFileExact() throws {
        let dir = try TempDir()
        for size in [0, 1, 65_537, 3 << 20] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
            let path = dir.sub("f\(size)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try readWholeFile(path) == bytes)
        }
        #expect(throws: DriftError.self) { try readWholeFile(dir.sub("f65537"), limit: 65_536) }
    }

    @Test("withCPath: NUL-terminated bytes for short and long paths (stack and heap)")
    func cPathBytes() {
        for n in [0, 1, 255, 1_023, 1_024, 5_000] {
            let path = (0..<n).map { UInt8(0x41 + $0 % 26) }
            let back = withCPath(path) { cStringBytes($0) }
            #expect(back == path)
        }
    }
}

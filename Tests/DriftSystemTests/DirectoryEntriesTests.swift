@testable import DriftSystem
import Foundation
import DriftTestSupport
import Testing

/// Directory listings keep every name as bytes (issue 25.6): a name that is not UTF-8 is
/// neither left out nor decoded into another file's name.
@Suite struct DirectoryEntriesTests {
    @Test("directoryEntries keeps names with 0xff, a newline and an escape byte, as their bytes")
    func keepsNonUTF8Names() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let odd: [[UInt8]] = [[0xFF, 0x2E, 0x74, 0x6D, 0x70], Array("a\nb.lock".utf8), [0x1B] + Array("[31m.conf".utf8),
                              Array("plain".utf8)]
        for name in odd {
            let fd = withCPath(PathBytes.join(Array(dir.path.utf8), name)) { open($0, O_WRONLY | O_CREAT, 0o600) }
            try #require(fd >= 0)
            close(fd)
        }
        let names = try #require(directoryEntries(Array(dir.path.utf8)))
        #expect(Set(names) == Set(odd))
        // Each name found opens the file it names (no repaired name stands for it).
        for name in names { #expect(!FileSystem.isAbsent(PathBytes.join(Array(dir.path.utf8), name))) }
        #expect(names.filter { $0.hasSuffix(text: ".lock") } == [Array("a\nb.lock".utf8)])
        #expect(names.filter { $0.hasSuffix(text: ".conf") } == [[0x1B] + Array("[31m.conf".utf8)])
        #expect(names.filter { $0.hasPrefix(text: "\u{FFFD}") }.isEmpty)
        #expect(names.filter { $0.contains(text: ".tmp") } == [[0xFF, 0x2E, 0x74, 0x6D, 0x70]])
        for name in names where name.contains(text: ".tmp") {
            try FileSystem.unlink(PathBytes.join(Array(dir.path.utf8), name))
        }
        #expect(try #require(directoryEntries(dir.path)).count == 3)
    }
}

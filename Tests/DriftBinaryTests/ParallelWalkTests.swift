import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Keeps every entry; never descends into a directory named `skip`.
private struct KeepAll: WalkVisitor {
    mutating func descend(_ dir: [UInt8]) -> Bool {
        !dir.split(separator: UInt8(ascii: "/")).contains(Array("skip".utf8)[...])
    }
    mutating func visit(_ path: [UInt8], _ stat: FileStat) -> WalkEntry? { WalkEntry(path: path, stat: stat) }
}

@Suite struct ParallelWalkTests {
    /// A tree wide and deep enough to be split into many subtrees, with names whose byte
    /// order differs from a naive sort (`a` dir vs `a-b`, `a.b`, `a0`), odd bytes, a symlink
    /// to a directory (listed, never entered), a FIFO, an unreadable directory and a skipped one.
    static func makeTree(_ root: String) throws {
        for i in 0..<40 {
            for j in 0..<6 {
                try write("\(root)/pkg\(i)/mod\(j)/f.py", "x")
                try write("\(root)/pkg\(i)/mod\(j)-x/g.py", "y")
            }
            try write("\(root)/pkg\(i).txt", "z")
        }
        for name in ["a/in.py", "a-b", "a.b", "a0", "a/b/c/d/e.py", "skip/hidden.py", "locked/x.py"] {
            try write("\(root)/\(name)", "q")
        }
        try writeFile(bytesPath: Array("\(root)/caf".utf8) + [0xE9, 0x0A, 0x7F], "odd")
        try sh("ln -s pkg1 '\(root)/link' && mkfifo '\(root)/pipe' && chmod 000 '\(root)/locked'")
    }

    @Test func sameEntriesInSameOrderOnAnyNumberOfThreads() throws {
        let dir = try TempDir()
        defer {
            _ = try? sh("chmod -R u+rwx '\(dir.path)'")
            dir.remove()
        }
        try Self.makeTree(dir.path)
        let root = Array(dir.path.utf8)
        let skip: [UInt8] = Array("skip".utf8)
        let (serial, serialIssues) = try DirectoryWalker(root: root).walk { dir in
            !dir.split(separator: UInt8(ascii: "/")).contains(skip[...])
        }
        // The serial walker's order is the manifest's: files sorted by path bytes.
        let files = serial.filter { $0.stat.kind != .directory }.map(\.path)
        #expect(files == files.sorted { PathBytes.less($0, $1) })
        for threads in [1, 2, 3, 8] {
            let (items, issues) = try ParallelDirectoryWalker(root: root, threads: threads).walk { KeepAll() }
            #expect(items.map(\.path) == serial.map(\.path), "threads \(threads)")
            #expect(items.map(\.stat) == serial.map(\.stat), "threads \(threads)")
            #expect(issues.map(\.path) == serialIssues.map(\.path), "threads \(threads)")
        }
        #expect(serial.contains { $0.path == Array("link".utf8) && $0.stat.kind == .symlink })
        #expect(!serial.contains { $0.path.starts(with: Array("link/".utf8)) })
        #expect(!serial.contains { $0.path.starts(with: Array("skip/".utf8)) })
        if getuid() != 0 {
            #expect(serialIssues.contains { $0.path == Array("locked".utf8) && $0.unreadableDirectory })
        }
    }

    @Test func policyWalkMatchesSerialClassification() throws {
        let dir = try TempDir()
        defer {
            _ = try? sh("chmod -R u+rwx '\(dir.path)'")
            dir.remove()
        }
        try Self.makeTree(dir.path)
        try write(dir.sub("pkg3/mod1/run.log"), "ignored")
        try write(dir.sub("logs/w.log"), "ignored")
        try write(dir.sub("pkg4/.env"), "TOKEN=1")
        let policy = try Policy.builtIn()
        let root = Array(dir.path.utf8)
        let entered = EnteredPaths()
        let one = try TreeWalk.run(root: root, policy: policy, threads: 1)
        let two = try TreeWalk.run(root: root, policy: policy, threads: 2) { entered.add($0) }
        #expect(one.entries.map(\.path) == two.entries.map(\.path))
        #expect(one.entries.map(\.fileClass) == two.entries.map(\.fileClass))
        #expect(one.entries.map(\.secret) == two.entries.map(\.secret))
        #expect(!two.entries.contains { $0.path.starts(with: Array("logs/".utf8)) })
        #expect(two.entries.contains { $0.path == Array("pkg4/.env".utf8) && $0.secret })
        // Every directory read was announced first, once; ignored ones never.
        let dirs = two.entries.filter { $0.stat.kind == .directory }.map(\.path)
        #expect(Set(entered.all) == Set(dirs + [[]]))
        #expect(entered.all.count == Set(entered.all).count)
    }
}

/// Directories a walk announced, from any thread.
private final class EnteredPaths: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [[UInt8]] = []
    func add(_ p: [UInt8]) { lock.withLock { paths.append(p) } }
    var all: [[UInt8]] { lock.withLock { paths } }
}

import Foundation
import DriftTestSupport
import Testing

/// The layering of docs/architecture.md: DriftSystem → DriftGit → DriftCore → DriftCLI.
@Suite struct LayerTests {
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("no target imports one above it, and C modules stay in their one layer")
    func importGraph() throws {
        let r = try run([Self.packageRoot + "/scripts/check-layers.sh"])
        #expect(r.code == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("layers ok"))
    }

    @Test("the checker catches an import that goes up")
    func checkerCatchesUpwardImport() throws {
        let dir = try TempDir()
        let copy = dir.path + "/pkg"
        try FileManager.default.createDirectory(atPath: copy + "/scripts", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.packageRoot + "/scripts/check-layers.sh",
                                         toPath: copy + "/scripts/check-layers.sh")
        for t in ["DriftSystem", "DriftGit", "DriftCore", "DriftCLI", "drift"] {
            try FileManager.default.createDirectory(atPath: copy + "/Sources/" + t, withIntermediateDirectories: true)
        }
        try "import DriftCore\n".write(toFile: copy + "/Sources/DriftGit/Up.swift", atomically: true, encoding: .utf8)
        try "import CLibGit2\n".write(toFile: copy + "/Sources/DriftCore/C.swift", atomically: true, encoding: .utf8)
        // Run through bash rather than exec'd: a copy this process just wrote could still be open
        // for writing in a child another test is forking (ETXTBSY).
        let r = try run(["/bin/bash", copy + "/scripts/check-layers.sh"])
        #expect(r.code == 1)
        #expect(r.out.contains("Sources/DriftGit/Up.swift imports DriftCore"))
        #expect(r.out.contains("Sources/DriftCore/C.swift imports CLibGit2"))
    }

    @Test("the checker catches a raw system call in DriftCore, and the C library imported there")
    func checkerCatchesRawSyscall() throws {
        let dir = try TempDir()
        let copy = dir.path + "/pkg"
        try FileManager.default.createDirectory(atPath: copy + "/scripts", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.packageRoot + "/scripts/check-layers.sh",
                                         toPath: copy + "/scripts/check-layers.sh")
        for t in ["DriftSystem", "DriftGit", "DriftCLI", "drift"] {
            try FileManager.default.createDirectory(atPath: copy + "/Sources/" + t, withIntermediateDirectories: true)
        }
        // The real domain layer, which must pass as it is…
        try FileManager.default.copyItem(atPath: Self.packageRoot + "/Sources/DriftCore",
                                         toPath: copy + "/Sources/DriftCore")
        let clean = try run(["/bin/bash", copy + "/scripts/check-layers.sh"])
        #expect(clean.code == 0, "\(clean.out)")
        // …then one planted file: Foundation (which re-exports Glibc on Linux) and raw calls. A
        // method of the file's own named like a syscall, comments and strings are not calls.
        let planted = """
            import Foundation
            struct Planted {
                func read(_ s: String) -> Int32 { 0 }
                // close(fd) in a comment is prose
                func load(_ path: String) -> Int32 {
                    _ = read("unlink(x) in a string")
                    let fd = open(path, O_RDONLY)
                    if fd < 0 { return errno }
                    return flock(fd, LOCK_EX)
                }
            }

            """
        try planted.write(toFile: copy + "/Sources/DriftCore/Scan/Planted.swift", atomically: true, encoding: .utf8)
        try "import Glibc\n".write(toFile: copy + "/Sources/DriftCore/G.swift", atomically: true, encoding: .utf8)
        try "import Glibc\n".write(toFile: copy + "/Sources/DriftCLI/G.swift", atomically: true, encoding: .utf8)
        let r = try run(["/bin/bash", copy + "/scripts/check-layers.sh"])
        #expect(r.code == 1)
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("layer violation: Sources/DriftCore/Scan/Planted.swift:7 calls open ") })
        #expect(lines.contains { $0.hasPrefix("layer violation: Sources/DriftCore/Scan/Planted.swift:8 uses errno ") })
        #expect(lines.contains { $0.hasPrefix("layer violation: Sources/DriftCore/Scan/Planted.swift:9 calls flock ") })
        #expect(lines.contains { $0.hasPrefix("layer violation: Sources/DriftCore/G.swift imports Glibc ") })
        #expect(lines.contains { $0.hasPrefix("layer violation: Sources/DriftCLI/G.swift imports Glibc ") })
        #expect(lines.count == 5, "\(r.out)")
        #expect(!r.out.contains("layers ok"))
    }
}

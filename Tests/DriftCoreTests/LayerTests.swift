import Foundation
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
}

import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Untrusted files that are optional are absent only when they do not exist: one that is there
/// but cannot be read, or does not parse, is an error naming it — never silently nothing.
@Suite("Absent, or an error")
struct AbsentOrErrorTests {
    @Test("a stat cache that is there but unreadable is exit 2 naming it; a damaged one is rebuilt")
    func statCache() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let (first, _) = try f.scan()
        #expect(first.code == 0, "\(first.err)")
        try sh("printf 'garbage' > statcache", cwd: f.state)
        let (damaged, _) = try f.scan()
        #expect(damaged.code == 0, "\(damaged.err)")
        #expect(try sh("head -c 8 statcache", cwd: f.state) != "garbage")
        try sh("rm statcache && mkdir statcache", cwd: f.state)
        let (blocked, _) = try f.scan()
        #expect(blocked.code == 2)
        #expect(blocked.err.hasPrefix("drift: ") && blocked.err.contains("statcache"), "\(blocked.err)")
        #expect(blocked.err.split(separator: "\n").count == 1)
    }

    @Test("egg-info installed-files.txt and direct_url.json: absent is fine; unreadable or mistyped is an error")
    func pipMetadata() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try write(dir.sub("site-packages") + "/demo.egg-info/PKG-INFO",
                  "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        let sp = try #require(canonicalPath(dir.sub("site-packages")))
        let reader = FileReader(root: Array(sp.utf8))
        let plain = try PipInventory.readEggInfo(sp + "/demo.egg-info", metadataDir: "demo.egg-info",
                                                 isDirectory: true, reader: reader)
        #expect(plain.files.isEmpty)
        try sh("mkfifo '\(sp)/demo.egg-info/installed-files.txt'")
        #expect(throws: DriftError.self) {
            try PipInventory.readEggInfo(sp + "/demo.egg-info", metadataDir: "demo.egg-info", isDirectory: true,
                                         reader: reader)
        }
        let info = sp + "/pkg-1.0.dist-info"
        try write(info + "/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
        try write(info + "/RECORD", "pkg/__init__.py,,\n")
        try write(info + "/direct_url.json", #"{"url": "file:///src/pkg", "dir_info": {"editable": true}}"#)
        let good = try PipInventory.readDistInfo(info, metadataDir: "pkg-1.0.dist-info", reader: reader)
        #expect(good.url == "file:///src/pkg" && good.editable)
        let mistyped = [#"{"url": 7}"#, #"{"url": "x", "dir_info": {"editable": "yes"}}"#,
                        #"{"url": "x", "dir_info": 1}"#]
        for bad in mistyped {
            try write(info + "/direct_url.json", bad)
            #expect(throws: DriftError.self, "\(bad)") {
                try PipInventory.readDistInfo(info, metadataDir: "pkg-1.0.dist-info", reader: reader)
            }
        }
    }

    @Test("bytecode: a pyc whose source is gone has nothing to verify; a source that cannot be read is an error")
    func bytecodeSource() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try sh("mkdir -p w/__pycache__ && echo pyc > w/__pycache__/a.cpython-311.pyc && mkfifo w/a.py", cwd: dir.path)
        let reader = FileReader(root: Array(dir.sub("w").utf8))
        let pyc = Array("__pycache__/a.cpython-311.pyc".utf8)
        #expect(throws: FileReadError.self) { try BytecodeCheck.readPair(reader, source: Array("a.py".utf8), pyc: pyc) }
        #expect(try BytecodeCheck.readPair(reader, source: Array("gone.py".utf8), pyc: pyc) == nil)
        try sh("rm w/a.py && echo 'x = 1' > w/a.py", cwd: dir.path)
        let pair = try BytecodeCheck.readPair(reader, source: Array("a.py".utf8), pyc: pyc)
        #expect(pair?.source == Array("x = 1\n".utf8))
    }
}

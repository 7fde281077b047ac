import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// An upstream with history (three commits, one of which carried a 256 KiB asset that a
/// later one removed), an image baked from its tip, and a bare copy served to the push
/// tests (`repo`), which keeps every received pack as it came (`receive.unpackLimit 1`).
struct PushFixture {
    let f: Fixture
    var dir: TempDir { f.dir }
    var served: String { f.dir.sub("served") }
    var repo: String { served + "/upstream.git" }

    init() throws {
        f = try Fixture()
        try sh("""
            set -e
            head -c 262144 /dev/urandom > assets/history.bin
            git add -A && git commit -qm 'add a big asset'
            printf 'def helper2(x):\\n    return x * 2\\n' >> worker/util.py
            git rm -q assets/history.bin && git commit -qam 'drop the asset, add helper2'
            """, cwd: f.upstream)
        try sh("rm -rf '\(f.workspace)' && mkdir -p '\(f.workspace)' && "
               + "git -C '\(f.upstream)' archive HEAD | tar -x -C '\(f.workspace)'")
        try f.bake()
        try sh("mkdir -p '\(served)' && git clone -q --bare '\(f.upstream)' '\(repo)' && "
               + "git -C '\(repo)' config receive.unpackLimit 1")
    }

    /// Upstream's main moves on after the image was built: commits the instance never saw.
    func moveUpstream() throws {
        let work = dir.sub("mover")
        try sh("""
            set -e
            git clone -q '\(repo)' '\(work)' && cd '\(work)'
            printf 'queue: video-v2\\n' > config/settings.yaml && git commit -qam 'settings v2'
            printf 'def helper3():\\n    return 3\\n' > worker/more.py && git add -A && git commit -qm 'more helpers'
            git push -q origin HEAD:main
            """)
    }

    /// Packs the served repository holds, by file name, with their sizes.
    func packs() throws -> [String: Int] {
        var out: [String: Int] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: repo + "/objects/pack")) ?? []
        for name in names where name.hasSuffix(".pack") {
            let attrs = try FileManager.default.attributesOfItem(atPath: repo + "/objects/pack/" + name)
            out[name] = (attrs[.size] as? Int) ?? 0
        }
        return out
    }

    /// Objects in a pack of the served repository.
    func objectCount(pack: String) throws -> Int {
        let idx = repo + "/objects/pack/" + pack.replacingOccurrences(of: ".pack", with: ".idx")
        return Int(try sh("git show-index < '\(idx)' | wc -l").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The ref drift pushed for `host` (one), or "".
    func ledgerRef(host: String) throws -> String {
        try sh("git --git-dir='\(repo)' for-each-ref --format='%(refname)' 'refs/drift/\(host)/'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Total size of the export files in `out`.
    func exportBytes(_ out: String) throws -> Int {
        try [Exporter.patchFile, Exporter.bundleFile, Exporter.reportFile].reduce(0) { sum, name in
            sum + ((try FileManager.default.attributesOfItem(atPath: out + "/" + name)[.size] as? Int) ?? 0)
        }
    }
}

/// Every byte drift wrote or printed in a test: outputs of its runs and files under `dirs`.
func everythingDriftWrote(_ runs: [Run], dirs: [String]) throws -> [UInt8] {
    var all = [UInt8]()
    for r in runs { all += Array((r.out + r.err).utf8) }
    for d in dirs {
        guard let e = FileManager.default.enumerator(atPath: d) else { continue }
        for case let rel as String in e {
            var isDir: ObjCBool = false
            let p = d + "/" + rel
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue {
                all += (try? readWholeFile(p, limit: 64 << 20)) ?? []
            }
        }
    }
    return all
}

/// Whether `needle` occurs in `hay`.
func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, hay.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    while let j = hay[i...].firstIndex(of: first), j + needle.count <= hay.count {
        if hay[j..<(j + needle.count)].elementsEqual(needle) { return true }
        i = j + 1
    }
    return false
}

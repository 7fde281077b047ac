import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 21, point 5: image mode is the scan's twin. A root file system copied from a
/// running container gets the scan's verdicts: runtime bytecode accepted, forged bytecode and
/// pip drift (read from the image's real site-packages) rejected in the scan's words.
@Suite("Image mode is the scan's twin")
struct ImageTwinTests {
    /// `ROOTFS` holding a copy of `dir` at the same absolute path (what `docker export` of the
    /// running container gives: the workspace and the venv where the manifest says they are).
    static func snapshot(_ dir: String, into rootfs: String) throws {
        try sh("mkdir -p '\(rootfs)\(dir)' && cp -a '\(dir)/.' '\(rootfs)\(dir)/'")
    }

    static func gate(_ rootfs: String, _ mdir: String) throws -> (Run, [String: [String: Any]]) {
        let r = try drift(["gate", "--image-root", rootfs, "--manifest", mdir, "--format", "json"])
        let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        var byCheck: [String: [String: Any]] = [:]
        for f in j["image"] as? [[String: Any]] ?? [] { byCheck[f["check"] as? String ?? "?"] = f }
        return (r, byCheck)
    }

    @Test("runtime pycs, an upgraded, an added and a removed package: same verdicts as scan, pip drift rejected",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func twin() throws {
        let f = try Fixture(requirements: "# worker pins\nsix==1.16.0\ntoml==0.10.1\n")
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check"]
        let offline = ["--no-index", "--find-links", Wheels.dir]
        try run(["python3", "-m", "venv", venv])
        #expect(try run(pip + ["install"] + offline + ["-r", f.workspace + "/requirements.instance.txt"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])

        // The container runs: Python writes bytecode in the workspace and in site-packages.
        try sh("cd '\(f.workspace)' && env -u PYTHONDONTWRITEBYTECODE /usr/bin/python3 -c 'import worker.util'"
               + " && '\(venv)/bin/python' -c 'import six, toml'")
        let (s0, j0) = try f.scan()
        #expect(s0.code == 0, "\(changes(j0)) \(s0.err)")
        let clean = f.dir.sub("rootfs-clean")
        try Self.snapshot(f.workspace, into: clean)
        try Self.snapshot(venv, into: clean)
        let (g0, c0) = try Self.gate(clean, f.mdir)
        #expect(g0.code == 0, "\(g0.out) \(g0.err)")
        #expect(c0["workspace"]?["ok"] as? Bool == true)
        #expect(c0["pip"]?["ok"] as? Bool == true)

        // On-call upgrades, adds and removes packages by hand.
        #expect(try run(pip + ["install"] + offline + ["-U", "toml==0.10.2"]).code == 0)
        #expect(try run(pip + ["install"] + offline + ["tomli==2.0.1"]).code == 0)
        #expect(try run(pip + ["uninstall", "-y", "six"]).code == 0)
        try sh("'\(venv)/bin/python' -c 'import toml, tomli'")
        let text = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(text.code == 1)
        let scanPip = text.out.split(separator: "\n").map(String.init)
            .filter { ["upgraded", "added", "removed"].contains($0.split(separator: " ").first.map(String.init) ?? "") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(scanPip.count == 3, "\(text.out)")
        let drifted = f.dir.sub("rootfs-drifted")
        try Self.snapshot(f.workspace, into: drifted)
        try Self.snapshot(venv, into: drifted)
        let (g1, c1) = try Self.gate(drifted, f.mdir)
        #expect(g1.code == 1, "\(g1.out) \(g1.err)")
        #expect(c1["workspace"]?["ok"] as? Bool == true, "runtime pycs rejected: \(c1["workspace"] ?? [:])")
        #expect(c1["pip"]?["ok"] as? Bool == false)
        let gatePip = (c1["pip"]?["paths"] as? [String]) ?? []
        #expect(Set(gatePip) == Set(scanPip), "gate \(gatePip) vs scan \(scanPip)")
        let human = try drift(["gate", "--image-root", drifted, "--manifest", f.mdir])
        for line in scanPip { #expect(human.out.contains(line), "\(line) not in \(human.out)") }
    }
}

import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, point 3: what is journaled is what was hashed.
@Suite("Containment: report and journal agree")
struct JournalRaceTests {
    /// Flips `target` between two same-size versions by atomic rename, as fast as it can.
    static let flipper = """
        import os, sys, time
        target, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
        tmp = os.path.join(os.path.dirname(a), "flip.tmp")  # in the ignored logs/ dir
        print("ready", flush=True)
        n = 0
        while True:
            src = a if n % 2 == 0 else b
            try:
                os.link(src, tmp)
                os.rename(tmp, target)
            except FileExistsError:
                os.unlink(tmp)
            n += 1
            # A pause per flip: on an idle machine a flip-as-fast-as-possible loop keeps every read
            # "unstable" (the scan then withholds, correctly), and the agreement is never tested.
            time.sleep(0.005)
        """

    @Test("""
        a file flipped between backdoor and decoy while scanned: \
        every scan's reported hash is the journaled content
        """)
    func flipRace() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        try sh("printf 'def helper(x):\\n    return x - 9  # backdoor\\n' > logs/a"
               + " && printf 'def helper(x):\\n    return x + 9  # decoy!!!\\n' > logs/b",
               cwd: w)
        try Data(Self.flipper.utf8).write(to: URL(fileURLWithPath: f.dir.sub("flip.py")))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", f.dir.sub("flip.py"), w + "/worker/util.py", w + "/logs/a", w + "/logs/b"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        _ = out.fileHandleForReading.readData(ofLength: 6)
        let git = "git --git-dir='\(f.state)/journal.git'"
        var compared = 0
        for _ in 0..<10 {
            let (r, j) = try f.scan()
            #expect(r.code == 1, "\(r.err)")
            guard let util = files(j).first(where: { $0["path"] as? String == "worker/util.py" }),
                  let reported = util["new_sha256"] as? String else { continue }
            if util["unstable"] as? Bool == true { continue }
            let message = try sh("\(git) log -1 --format=%B refs/heads/journal")
            let line = message.split(separator: "\n").first { $0.contains(" worker/util.py ") } ?? ""
            #expect(!line.contains("changed_while_read"), "journal withheld a settled version:\n\(message)")
            let journaled = try sh("\(git) cat-file blob refs/heads/journal:worker/util.py | sha256sum | cut -c1-64")
            #expect(journaled.trimmingCharacters(in: .whitespacesAndNewlines) == reported)
            compared += 1
        }
        #expect(compared >= 6)
    }
}

import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22: secrets known only from the environment, a known format or a secret file of any
/// shape, pasted into code, config, a symlink target or copied under data, leave nowhere.
@Suite("Secret leaks")
struct SecretLeakTests {
    static func token(_ prefix: String) -> String {
        prefix + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max), UInt32.random(in: 0...UInt32.max))
    }

    /// scan (JSON, log, metrics), diff, export, push to a bare repository: every output and
    /// every object of the journal, the bundle (fetched) and the pushed repository.
    /// `wrapper` runs before every drift (the PID-namespace test's `unshare … sh -c`).
    static func runEverything(_ f: Fixture, env: [String: String],
                              wrapper: [String] = []) throws -> (LeakSearch, [String: Any]) {
        func drift(_ args: [String], env: [String: String]) throws -> Run {
            try run(wrapper + [driftBinary()] + args, env: env)
        }
        var s = LeakSearch()
        let log = f.dir.sub("drift.log"), metrics = f.dir.sub("drift.prom"), out = f.dir.sub("out")
        let common = ["--manifest", f.mdir, "--state", f.state]
        let scan = try drift(["scan", "--format", "json", "--log", log, "--metrics", metrics] + common, env: env)
        let report = (try? JSONSerialization.jsonObject(with: Data(scan.out.utf8))) as? [String: Any] ?? [:]
        s.add("scan json", scan.out + scan.err)
        let text = try drift(["scan"] + common, env: env)
        s.add("scan text", text.out + text.err)
        let diff = try drift(["diff"] + common, env: env)
        s.add("diff", diff.out + diff.err)
        let export = try drift(["export", "--output", out] + common, env: env)
        #expect(export.code == 0, "\(export.err)")
        s.add("export", export.out + export.err)
        let status = try drift(["status"] + common, env: env)
        s.add("status", status.out + status.err)
        let bare = f.dir.sub("pushed.git")
        try sh("git init -q --bare '\(bare)'")
        let push = try drift(["push", bare] + common, env: env)
        #expect(push.code == 0, "\(push.err)")
        s.add("push", push.out + push.err)
        for name in ["drift.patch", "drift.bundle", "report.json"] { s.addFile(name, out + "/" + name) }
        s.addFile("log", log)
        s.addFile("metrics", metrics)
        s.addFile("state.json", f.state + "/state.json")
        try s.addRepository("journal objects", f.state + "/journal.git")
        try s.addRepository("pushed objects", bare)
        let clone = f.dir.sub("bundle-clone")
        try sh("git clone -q --bare '\(f.upstream)' '\(clone)'"
               + " && git --git-dir='\(clone)' fetch -q '\(out)/drift.bundle'"
               + " 'refs/heads/*:refs/heads/b/*'")
        try s.addRepository("bundle objects", clone)
        return (s, report)
    }

    static func flagged(_ report: [String: Any]) -> Set<String> {
        Set(files(report).filter { ($0["flags"] as? [String])?.contains("secret-content") == true }
            .compactMap { $0["path"] as? String })
    }

    @Test("a secret only in drift's, the main process's or a supervisord program's environment leaves nowhere")
    func environmentOnly() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let own = Self.token("sk-own-"), pid1 = Self.token("hf-pid1-"), sup = Self.token("pw-sup-")
        let environ = f.dir.sub("pid1.environ")
        try Data("PATH=/usr/bin\0HF_TOKEN=\(pid1)\0HOME=/root\0".utf8).write(to: URL(fileURLWithPath: environ))
        let conf = f.dir.sub("supervisor")
        try write(conf + "/conf.d/worker.conf",
                  "[program:worker]\ncommand=python w.py\nenvironment=DB_PASSWORD=\"\(sup)\",MODE=prod\n")
        let env = ["OPENAI_API_KEY": own, "FOO_KEY": "1", "DRIFT_TEST_PID1_ENVIRON": environ,
                   "DRIFT_SUPERVISOR_CONF": conf + "/conf.d"]
        let w = f.workspace
        try sh("""
            printf 'KEY = "%s"\\n' '\(own)' >> worker/main.py
            printf 'import os\\nHF = "%s"\\n' '\(pid1)' > worker/pid1.py
            printf 'db:\\n  password: %s\\n' '\(sup)' >> config/settings.yaml
            ln -s 'x-\(own)' worker/link.py
            printf '%s' '\(sup)' > packages/models/token.bin
            printf '%s\\n' '\(pid1)' > packages/models/token2.bin
            echo 'FIX = 1' >> worker/util.py
            """, cwd: w)
        let (leaks, report) = try Self.runEverything(f, env: env)
        #expect(Self.flagged(report) == ["worker/main.py", "worker/pid1.py", "worker/link.py", "config/settings.yaml",
                                         "packages/models/token.bin", "packages/models/token2.bin"],
                "\(Self.flagged(report))")
        for (v, label) in [(own, "drift's env"), (pid1, "PID 1"), (sup, "supervisord")] {
            leaks.expectAbsent(v, label)
        }
        let patch = String(decoding: try readWholeFile(f.dir.sub("out") + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 1"), "honest code still goes; FOO_KEY=1 withholds nothing")
    }

    @Test("a secret only in the real PID 1's environment (a PID namespace, drift not PID 1) leaves nowhere")
    func realMainProcess() throws {
        let probe = try run(["unshare", "--pid", "--fork", "--mount-proc", "true"])
        try #require(probe.code == 0, "cannot make a PID namespace (unshare --pid --mount-proc): \(probe.err)")
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = Self.token("pid1-real-")
        // PID 1 of the namespace is a shell started with the key, as `docker run -e` starts the
        // container's main process; drift runs as its child with the key removed from its own
        // environment (cron and supervisord do not pass it on) and reads /proc/1/environ.
        let wrapper = ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/env", "WORKER_API_KEY=\(key)",
                       "/bin/sh", "-c", "env -u WORKER_API_KEY \"$0\" \"$@\"; exit $?"]
        let seen = try run(wrapper + ["/bin/sh", "-c", "echo pid=$$; env | grep -c WORKER_API_KEY; "
                                      + "tr '\\0' '\\n' < /proc/1/environ | grep -c WORKER_API_KEY"])
        #expect(seen.out == "pid=2\n0\n1\n", "the namespace is not as described: \(seen.out)\(seen.err)")
        try sh("""
            printf 'KEY = "%s"\\n' '\(key)' >> worker/main.py
            printf 'worker:\\n  key: %s\\n' '\(key)' >> config/settings.yaml
            ln -s 'k/\(key)' worker/link.py
            printf '%s\\n' '\(key)' > packages/models/key.bin
            echo 'FIX = 12' >> worker/util.py
            """, cwd: f.workspace)
        let (leaks, report) = try Self.runEverything(f, env: ["DRIFT_TEST_PID1_ENVIRON": ""], wrapper: wrapper)
        #expect(Self.flagged(report) == ["worker/main.py", "config/settings.yaml", "worker/link.py",
                                         "packages/models/key.bin"], "\(Self.flagged(report))")
        leaks.expectAbsent(key, "PID 1 (real /proc/1/environ)")
        let patch = String(decoding: try readWholeFile(f.dir.sub("out") + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 12"), "honest code still goes")
    }

    @Test("secrets in every dotenv form, a PEM secret file and known formats (no source) leave nowhere")
    func filesAndFormats() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        let single = Self.token("single-"), hashed = Self.token("hashed-"), escd = Self.token("esc-")
        let multiLine = Self.token("multi-"), exported = Self.token("exp-"), referenced = Self.token("ref-")
        let dotenv = """
            # production
            export EXPORTED=\(exported)
            SINGLE='\(single)'  # prod
            HASHED=\(hashed) # prod
            ESCAPED="tab\\t\(escd)"
            MULTI="first line of it
            \(multiLine)
            last"
            BASE=\(referenced)
            COMPOSED=${BASE}-composed-suffix

            """
        try Data(dotenv.utf8).write(to: URL(fileURLWithPath: w + "/.env"))
        try sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out keys.pem 2>/dev/null", cwd: w)
        let pem = String(decoding: try readWholeFile(w + "/keys.pem"), as: UTF8.self)
        let bodyLine = pem.split(separator: "\n")[2]
        let aws = "AKIA" + String((0..<16).map { _ in "ABCDEFGHJKLMNPQRSTUVWXYZ234567".randomElement() ?? "A" })
        let alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGH0123456789"
        let gh = "ghp_" + String((0..<36).map { _ in alphabet.randomElement() ?? "a" })
        func code(_ name: String, _ body: String) throws { try write(w + "/worker/" + name, body + "\n") }
        try code("single.py", "S = '\(single)'")
        try code("hashed.py", "H = '\(hashed)'")
        try code("escaped.py", "E = 'tab\t\(escd)'  # the decoded escape: a real tab")
        try code("multi.py", "M = '\(multiLine)'")
        try code("exported.py", "X = '\(exported)'")
        try code("composed.py", "C = '\(referenced)-composed-suffix'")
        try code("pem_line.py", "K = '\(bodyLine)'")
        try code("pem_whole.py", "K = '''\(pem.replacingOccurrences(of: String(bodyLine), with: "AAAA"))'''")
        try code("aws.py", "ID = '\(aws)'")
        try code("gh.py", "T = \"\(gh)\"")
        // Known formats as config, as a symlink target and as a small data file (whose hash
        // would be SHA-256 of the key): no secret source knows them.
        let aws2 = "AKIA" + String((0..<16).map { _ in "ABCDEFGHJKLMNPQRSTUVWXYZ234567".randomElement() ?? "A" })
        let gh2 = "ghp_" + String((0..<36).map { _ in alphabet.randomElement() ?? "a" })
        try sh("printf 'aws:\\n  id: %s\\n' '\(aws2)' >> config/settings.yaml && ln -s '\(gh2)' worker/gh_link.py"
               + " && printf '%s\\n' '\(aws2)' > packages/models/aws.txt", cwd: w)
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: w)
        let (leaks, report) = try Self.runEverything(f, env: [:])
        let code = Set(["single", "hashed", "escaped", "multi", "exported", "composed", "pem_line", "pem_whole", "aws",
                        "gh", "gh_link"].map { "worker/\($0).py" }
                       + ["config/settings.yaml", "packages/models/aws.txt"])
        #expect(Self.flagged(report) == code, "\(Self.flagged(report).symmetricDifference(code))")
        for (v, label) in [(single, "single"), (hashed, "hashed"), (escd, "escaped"), (multiLine, "multi-line"),
                           (exported, "export"), (referenced, "referenced"), (String(bodyLine), "PEM line"),
                           (aws, "AWS key"), (gh, "GitHub token"), (aws2, "AWS key as config and data"),
                           (gh2, "GitHub token as a link target")] {
            leaks.expectAbsent(v, label)
        }
    }

    @Test("with no secret source at all, scan and export say so once; with one they do not")
    func noSources() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("rm .env && echo 'FIX = 3' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        let note = "drift: note: no secret sources"
        let scan = try drift(["scan"] + common)
        #expect(scan.err.components(separatedBy: note).count == 2, "\(scan.err)")
        let export = try drift(["export", "--output", f.dir.sub("o")] + common)
        #expect(export.code == 0 && export.err.components(separatedBy: note).count == 2, "\(export.err)")
        let withEnv = try drift(["scan"] + common, env: ["SERVICE_TOKEN": "tok-0123456789abcdef"])
        #expect(!withEnv.err.contains(note), "\(withEnv.err)")
    }
}

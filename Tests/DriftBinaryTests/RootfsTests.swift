import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
@testable import DriftCLI
#if canImport(Glibc)
import Glibc
#endif

/// Issue 13: one self-contained binary, proven in a real Debian root file system without a
/// docker engine. The image is built by examples/image/build-image.sh, the script
/// examples/Dockerfile runs.
@Suite("Image: dist binary and root file system", .serialized)
struct RootfsTests {
    static let allowedNeeded = ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
                                "libutil.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
                                "libstdc++.so.6", "libgcc_s.so.1"]

    @Test("dist binary: NEEDED only glibc (+ libstdc++, libgcc_s), GLIBC_ ≤ 2.35, ≤ 25 MB stripped, --version")
    func distBinary() throws {
        let built = try DistBuild.built.get()
        let bin = built.binary
        let needed = try sh("readelf -d '\(bin)' | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'")
            .split(separator: "\n").map(String.init)
        #expect(!needed.isEmpty)
        for lib in needed {
            #expect(Self.allowedNeeded.contains(lib), "NEEDED \(lib) is not glibc, libstdc++ or libgcc_s")
        }
        let versions = try sh("objdump -T '\(bin)' | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -u -V")
            .split(separator: "\n").map { $0.split(separator: ".").compactMap { Int($0) } }
        let highest = try #require(versions.max { $0.lexicographicallyPrecedes($1) })
        let glibc = highest.map(String.init).joined(separator: ".")
        #expect(![2, 35].lexicographicallyPrecedes(highest), "needs GLIBC_\(glibc)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: bin)[.size] as? Int)
        #expect(size <= 25_000_000, "stripped size \(size) bytes")
        #expect(try sh("readelf -S '\(bin)'").contains(".symtab") == false, "not stripped")
        let dir = URL(fileURLWithPath: bin).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: bin).lastPathComponent
        #expect(name == "drift-\(BuildInfo.version)-linux-\(try sh("uname -m").trimmingWhitespace())")
        #expect(try run(["sha256sum", "-c", name + ".sha256"], cwd: dir).code == 0)
        #expect(built.checks == 0, "scripts/dist.sh's own checks failed:\n\(built.log.suffix(600))")

        let v = try run([bin, "--version"])
        let lines = v.out.split(separator: "\n").map(String.init)
        #expect(v.code == 0 && lines.count == 4, "\(v.out)")
        #expect(lines.first == "drift \(BuildInfo.version)")
        // The cache is keyed by the sources, so the commit is one of this repository's, not always HEAD.
        let commit = lines.count > 1 ? String(lines[1].dropFirst("commit ".count).prefix(40)) : ""
        #expect(lines.count > 1 && lines[1].hasPrefix("commit ") && commit.count == 40, "\(lines)")
        #expect(try run(["git", "-C", repositoryRoot, "cat-file", "-e", commit + "^{commit}"]).code == 0)
        #expect(lines.count > 2 && lines[2].hasPrefix("libgit2 1.5.") && lines[2].contains("https")
                && lines[2].contains("ssh"))
        #expect(lines.count > 3 && lines[3].hasPrefix("OpenSSL 3."))
    }

    @Test("bookworm image: bake, drift found, journaled, exported, git am'd, gated; cron's lines verify, push, report")
    func imageFlow() throws {
        guard getuid() == 0 else { try Test.cancel("skipped: the root-file-system test needs root (chroot, mounts)") }
        let bin = try DistBuild.built.get().binary
        guard Wheels.available() else { try Test.cancel("skipped: PyPI unreachable, wheels could not be fetched") }
        let base: String
        switch RootfsBase.tarball {
        case .ready(let t): base = t
        case .skip(let reason): try Test.cancel(Comment(rawValue: reason))
        case .failed(let message): throw DriftError(message)
        }
        let t = try TempDir("drift-rootfs")
        let root = t.sub("rootfs")
        let box = Chroot(root: root)
        defer {
            box.killAll()
            t.remove()
        }
        try sh("mkdir '\(root)' && tar -xf '\(base)' -C '\(root)'")
        let sdir = t.sub("sshd")
        try FileManager.default.createDirectory(atPath: sdir, withIntermediateDirectories: true)
        guard executable(["/usr/sbin/sshd"]) != nil else {
            try Test.cancel("skipped: openssh-server is not installed (scripts/apt)")
        }

        // Upstream: the worker's repository, three commits.
        let up = t.sub("upstream")
        try write(up + "/app/worker.py",
                  "import time\nfrom app import util\n\nwhile True:\n    time.sleep(util.PERIOD)\n")
        try write(up + "/app/__init__.py", "")
        try write(up + "/requirements.instance.txt", "six==1.16.0\ntomli==2.0.1\n")
        try sh("git init -q -b main . && git add -A && git commit -qm 'worker'", cwd: up)
        try write(up + "/app/util.py", "PERIOD = 5\n\n\ndef helper(x):\n    return x + 1\n")
        try sh("git add -A && git commit -qm 'util'", cwd: up)
        try write(up + "/start_remote.sh", "#!/bin/sh\nsupervisorctl -s unix:///tmp/supervisor.sock \"$@\"\n")
        try sh("chmod +x start_remote.sh && git add -A && git commit -qm 'start script'", cwd: up)
        let imageCommit = try sh("git rev-parse HEAD", cwd: up).trimmingWhitespace()

        // What the Dockerfile's COPY steps put in place; the key is a build secret, removed after.
        try sh("""
            git clone -q '\(up)' '\(root)/workspace' \
            && install -D -m 0755 '\(bin)' '\(root)/usr/local/bin/drift' \
            && openssl genpkey -algorithm ed25519 -out '\(t.path)/key.pem' 2>/dev/null \
            && openssl pkey -in '\(t.path)/key.pem' -pubout -out '\(t.path)/pub.pem' \
            && install -D -m 0400 '\(t.path)/key.pem' '\(root)/run/secrets/drift_key' \
            && install -D -m 0644 '\(t.path)/pub.pem' '\(root)/etc/drift-keys/manifest.pub' \
            && mkdir -p '\(root)/tmp/wheels' && cp '\(Wheels.dir)'/six-1.16.0-* '\(Wheels.dir)'/tomli-2.0.1-* \
               '\(Wheels.dir)'/toml-0.10.2-* '\(root)/tmp/wheels/' \
            && cp -r '\(repositoryRoot)/examples' '\(root)/tmp/drift-examples'
            """)
        let build = try box.run("sh /tmp/drift-examples/image/build-image.sh", env: [
            "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/tmp/wheels", "DRIFT_SIGN_KEY": "/run/secrets/drift_key",
            "DRIFT_EXAMPLES": "/tmp/drift-examples",
        ], timeout: 600)
        #expect(build.code == 0, "build-image.sh: \(build.err)")
        #expect(build.out.contains("drift \(BuildInfo.version)"))
        try sh("rm -rf '\(root)/run/secrets' '\(root)/tmp/drift-examples'")
        let fm = FileManager.default
        #expect(!fm.fileExists(atPath: root + "/workspace/.git"))
        #expect(fm.fileExists(atPath: root + "/etc/drift/manifest.sig"))
        #expect(try sh("stat -c '%U %a' '\(root)/var/lib/drift'").trimmingWhitespace() == "root 700")
        #expect(fm.fileExists(atPath: root + "/etc/supervisor/supervisord.conf"))
        let stateMode = (try? fm.attributesOfItem(atPath: root + "/var/lib/drift")[.posixPermissions]) as? Int
        #expect(stateMode == 0o700, "the example image creates the state dir 0700")
        // The crontab's and the watcher's --metrics directory (newcomer incident 10: every cron
        // scan exited 2 without it).
        let textfile = root + "/var/lib/node_exporter/textfile"
        #expect((try? fm.attributesOfItem(atPath: textfile)[.posixPermissions]) as? Int == 0o755)
        let foreign = try sh("""
            cd '\(root)' && find . \\( -name 'libswift*' -o -name 'libFoundation*' -o -name 'lib_Foundation*' \
            -o -name 'libdispatch*' -o -name 'libgit2*' -o -path './usr/lib/swift' \\) -print
            """)
        #expect(foreign.isEmpty, "Swift or libgit2 libraries in the image: \(foreign)")

        // A bare chroot (no /proc): arguments still parse.
        let bare = try box.run("drift --version && drift scan --manifest /nonexistent", proc: false)
        #expect(bare.out.hasPrefix("drift \(BuildInfo.version)"), "\(bare.out)")
        #expect(bare.code == 2 && bare.err.hasPrefix("drift: /nonexistent"), "\(bare.code) \(bare.err)")

        // CI side: the clean image passes the gate.
        let pub = t.path + "/pub.pem"
        let clean = try run([bin, "gate", "--image-root", root, "--public-key", pub])
        #expect(clean.code == 0, "gate on the clean image: \(clean.out)\(clean.err)")

        // The running container: supervisord as the seed runs it, a worker program, drift's programs.
        try write(root + "/etc/supervisor/conf.d/worker-cpu.conf",
                  "[program:worker-cpu]\ncommand=/venv/bin/python -m app.worker\ndirectory=/workspace\n")
        try sh("mkdir -p '\(root)/var/log/supervisor'")
        let started = box.startDaemon("supervisord -c /etc/supervisor/supervisord.conf")
        #expect(started == 0, "supervisord did not start (exit \(started))")
        defer { _ = try? box.run("supervisorctl -s unix:///tmp/supervisor.sock shutdown", timeout: 30) }
        var status = ""
        for _ in 0..<60 {
            status = (try? box.run("supervisorctl -s unix:///tmp/supervisor.sock status", timeout: 30).out) ?? ""
            if status.contains("worker-cpu") && status.contains("RUNNING") { break }
            usleep(500_000)
        }
        #expect(status.contains("worker-cpu") && status.contains("RUNNING"), "\(status)")

        // Cron's line from examples/crontab, as cron runs it (without the jitter sleep).
        let crontab = try String(contentsOfFile: repositoryRoot + "/examples/crontab", encoding: .utf8)
        let scanLine = try #require(crontab.split(separator: "\n").first {
            $0.contains("drift scan") && !$0.hasPrefix("#")
        })
        let scanAt = try #require(scanLine.firstRange(of: "/usr/local/bin/drift scan")).lowerBound
        let cronScan = String(scanLine[scanAt...]).replacingEvery("\\", with: "")
        let first = try box.cron(cronScan)
        #expect(first.code == 0, "clean cron scan: \(first.err)")

        // The incident: a hotfix to a code file and a pip install by hand.
        let hotfix = try box.run("""
            printf '\\n\\ndef hotfix(x):\\n    return max(x, 0)\\n' >> /workspace/app/util.py \
            && /venv/bin/pip install -q --no-index --find-links /tmp/wheels toml==0.10.2
            """, timeout: 300)
        #expect(hotfix.code == 0, "\(hotfix.err)")
        let second = try box.cron(cronScan)
        #expect(second.code == 0, "cron scan with fresh drift (not overdue): \(second.err)")
        let metrics = try String(contentsOfFile: root + "/var/lib/node_exporter/textfile/drift.prom", encoding: .utf8)
        #expect(metrics.contains("drift_files{class=\"code\",change=\"modified\"} 1"), "\(metrics)")
        let log = try String(contentsOfFile: root + "/var/log/drift.jsonl", encoding: .utf8)
        // Two cron scans, plus the lines of `drift watch` (examples/supervisord/drift.conf) beside them.
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 2 && lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "\(log)")

        let report = try box.run("drift scan --wait 60 --format json")
        #expect(report.code == 1)
        #expect(report.out.contains("app/util.py") && report.out.contains("\"toml\""), "\(report.out)")

        // Export from the journal (what was recorded when it was seen), the manifest verified first.
        let export = try box.run("""
            drift export --from-journal --output /tmp/hotfix --wait 60 --author 'On-call <oncall@example.com>'
            """)
        #expect(export.code == 0, "export: \(export.err)")
        let patch = try String(contentsOfFile: root + "/tmp/hotfix/drift.patch", encoding: .utf8)
        #expect(patch.contains("def hotfix(x):") && patch.contains("toml==0.10.2"), "\(patch)")

        // Cron's push line, with cron's environment. First without the credentials file: the
        // failure is in status, in the log and (at the next scan) in the metrics.
        let pushLine = try #require(crontab.split(separator: "\n").first {
            $0.contains("drift push") && !$0.hasPrefix("#")
        })
        let (sshd, port, user) = try Servers.sshd(dir: sdir)
        defer { sshd.stop() }
        let served = t.sub("served.git")
        try sh("git clone -q --bare '\(up)' '\(served)'")
        let remote = "ssh://\(user)@127.0.0.1:\(port)\(served)"
        let pushAt = try #require(pushLine.firstRange(of: "/usr/local/bin/drift push")).lowerBound
        let cronPush = String(pushLine[pushAt...])
            .replacingOccurrences(of: "ssh://git@git.example.com/org/worker.git", with: remote)
        let noCredentials = try box.cron(cronPush)
        #expect(noCredentials.code == 2)
        let failedPush = try box.run("drift status")
        #expect(failedPush.out.contains("push FAILED"), "\(failedPush.out)")
        #expect(try box.cron(cronScan).code == 0)
        var prom = try String(contentsOfFile: root + "/var/lib/node_exporter/textfile/drift.prom", encoding: .utf8)
        #expect(prom.contains("drift_last_run_failed{verb=\"push\"} 1"), "\(prom)")
        // The documented credentials file (examples/vast-onstart.sh writes it), root-only.
        let hostKey = try String(contentsOfFile: sdir + "/host_key.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try sh("""
            install -d -m 0700 '\(root)/etc/drift-push' \
            && install -m 0600 '\(sdir)/client_key' '\(root)/etc/drift-push/id_ed25519' \
            && printf '[127.0.0.1]:\(port) \(hostKey)\\n' > '\(root)/etc/drift-push/known_hosts' \
            && printf 'ssh_key=/etc/drift-push/id_ed25519\\nknown_hosts=/etc/drift-push/known_hosts\\n' \
               > '\(root)/etc/drift-push/credentials' && chmod 0600 '\(root)/etc/drift-push/credentials'
            """)
        let pushed = try box.cron(cronPush)
        #expect(pushed.code == 0, "cron push: \(pushed.out)\(pushed.err)")
        let refs = try run(["git", "-C", served, "for-each-ref", "--format=%(refname)", "refs/drift/"])
        #expect(refs.out.hasPrefix("refs/drift/"), "\(refs.out)")
        let cronLog = (try? String(contentsOfFile: root + "/var/log/drift-cron.log", encoding: .utf8)) ?? ""
        #expect(cronLog.contains("pushed refs/drift/") && cronLog.contains("ssh://\(user)@127.0.0.1"), "\(cronLog)")
        let afterPush = try box.run("drift status")
        #expect(afterPush.code == 0 && !afterPush.out.contains("FAILED"), "\(afterPush.out)")
        #expect(afterPush.out.contains("1 to ssh://\(user)@127.0.0.1:\(port)"), "\(afterPush.out)")

        // Upstream moved on meanwhile; the export still applies with git am.
        try write(up + "/README.md", "worker\n")
        try sh("git add -A && git commit -qm 'docs'", cwd: up)
        let am = try run(["git", "am", root + "/tmp/hotfix/drift.patch"], cwd: up)
        #expect(am.code == 0, "git am: \(am.err)")
        let util = try String(contentsOfFile: up + "/app/util.py", encoding: .utf8)
        #expect(util.contains("def hotfix(x):"))
        #expect(try String(contentsOfFile: up + "/requirements.instance.txt", encoding: .utf8).contains("toml==0.10.2"))

        // CI side: the same rootfs, committed with its drift, is rejected.
        _ = try? box.run("supervisorctl -s unix:///tmp/supervisor.sock shutdown", timeout: 30)
        let baked = try run([bin, "gate", "--image-root", root, "--public-key", pub])
        #expect(baked.code == 1, "gate on the drifted image: \(baked.out)\(baked.err)")

        // An unsigned re-bake that blesses the hotfix: cron's scan refuses it (the default key
        // is there), and the failure is in the metrics, the JSON log, cron's log and status.
        try sh("git clone -q --bare '\(up)' '\(root)/tmp/rebake.git'")
        let rebake = try box.run("""
            drift manifest create --root /workspace --repo /tmp/rebake.git --commit \(imageCommit) \
              --output /etc/drift.unsigned && rm -rf /etc/drift && mv /etc/drift.unsigned /etc/drift
            """)
        #expect(rebake.code == 0, "re-bake: \(rebake.err)")
        let refused = try box.cron(cronScan)
        #expect(refused.code == 2)
        prom = try String(contentsOfFile: root + "/var/lib/node_exporter/textfile/drift.prom", encoding: .utf8)
        #expect(prom.contains("drift_last_run_failed{verb=\"scan\"} 1"), "\(prom)")
        let jsonl = try String(contentsOfFile: root + "/var/log/drift.jsonl", encoding: .utf8)
        #expect(jsonl.contains("\"exit_code\":2") && jsonl.contains("manifest signature does not verify"), "\(jsonl)")
        let errLog = try String(contentsOfFile: root + "/var/log/drift-cron.log", encoding: .utf8)
        #expect(errLog.contains("drift: manifest signature does not verify: /etc/drift/manifest.sig is missing"),
                "\(errLog)")
        let unverified = try box.run("drift status")
        #expect(unverified.code == 2 && unverified.out.contains("scan FAILED"), "\(unverified.out)")
        #expect(unverified.err.contains("manifest signature does not verify"), "\(unverified.err)")
    }
}

import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// `drift push` against real servers started on loopback ports: git daemon, OpenSSH, nginx.
@Suite("push to real remotes")
struct PushTests {
    /// The JSON entries of a gate run, without the entry's location (a directory or a ref).
    static func judgement(_ r: Run) -> [[String: String]] {
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        return ((obj["entries"] as? [[String: Any]]) ?? []).map { e in
            var out: [String: String] = [:]
            for (k, v) in e where k != "entry" && k != "age_seconds" { out[k] = "\(v)" }
            return out
        }
    }

    @Test("""
        git daemon: a base with history, upstream moved ahead, other hosts' refs — the push sends one pack of five \
        objects sized by the drift; a re-push is a no-op; a rejected update is exit 2 with the hook's reason
        """)
    func pushWithHistory() throws {
        let p = try PushFixture()
        defer { p.dir.remove() }
        let (daemon, base) = try Servers.gitDaemon(base: p.served, dir: p.dir.path)
        defer { daemon.stop() }
        let url = base + "/upstream.git"
        try p.moveUpstream()
        // Another host pushed first: refs/drift/other-host/* the instance has never seen.
        let other = p.dir.sub("ws-other")
        try sh("cp -a '\(p.f.workspace)' '\(other)' && printf 'print(1)\\n' >> '\(other)/worker/main.py'")
        let o = try drift(["export", "--manifest", p.f.mdir, "--root", other, "--state", p.dir.sub("state-other"),
                           "--output", p.dir.sub("out-other"), "--push", url], env: ["DRIFT_HOST": "other-host"])
        #expect(o.code == 0, "\(o.out)\(o.err)")

        try sh("printf 'fix = 1\\n' >> worker/util.py", cwd: p.f.workspace)
        let out = p.dir.sub("out")
        let before = try p.packs()
        let r = try drift(["export", "--manifest", p.f.mdir, "--state", p.f.state, "--output", out, "--push", url],
                          env: ["DRIFT_HOST": "gpu-node-7"])
        #expect(r.code == 0 && r.out.contains("pushed refs/drift/gpu-node-7/"), "\(r.out)\(r.err)")
        // Server side: exactly one pack arrived — the ledger commit, its tree, three blobs —
        // and its size is bounded by the export's files, not by the 256 KiB of history.
        let received = try p.packs().filter { before[$0.key] == nil }
        #expect(received.count == 1)
        for (name, size) in received {
            #expect(try p.objectCount(pack: name) == 5)
            let bound = try p.exportBytes(out) + 1024
            #expect(size <= bound, "received \(size) bytes, the drift is \(bound - 1024)")
        }
        let ref = try p.ledgerRef(host: "gpu-node-7")
        let id = String(ref.split(separator: "/").last ?? "")
        let commit = try sh("git --git-dir='\(p.repo)' cat-file -p '\(ref)'")
        #expect(!commit.contains("\nparent ") && commit.contains("Drift-Ledger: 1"), "\(commit)")
        let shown = try sh("git --git-dir='\(p.repo)' show '\(ref):drift.patch'")
        #expect(shown == (try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)))

        // Idempotent: again from the same state; then with the state lost (a new ledger
        // commit for the same drift): the remote already has the ref, nothing is sent.
        let again = try drift(["push", url, "--manifest", p.f.mdir, "--state", p.f.state],
                              env: ["DRIFT_HOST": "gpu-node-7"])
        #expect(again.code == 0 && again.out.contains("already pushed"), "\(again.out)\(again.err)")
        let packsNow = try p.packs()
        let lost = try drift(["export", "--manifest", p.f.mdir, "--state", p.dir.sub("state-lost"),
                              "--output", p.dir.sub("out-lost"), "--push", url], env: ["DRIFT_HOST": "gpu-node-7"])
        #expect(lost.code == 0 && lost.out.contains("already pushed: \(ref)"), "\(lost.out)\(lost.err)")
        #expect(try p.packs() == packsNow)
        #expect(try p.ledgerRef(host: "gpu-node-7") == ref)

        // A ref update the remote rejects: exit 2 with the hook's own words.
        // Written by a child shell, not by this process: a test process that spawns children on
        // other threads could hold the hook open for writing across a fork, and git's exec of it
        // would fail with ETXTBSY ("hook declined" without the hook's words).
        try sh("""
            cat > hooks/update.new <<'EOF'
            #!/bin/sh
            case "$1" in refs/drift/frozen-*) echo "ledger refs of frozen hosts are read-only" >&2; exit 1;; esac
            exit 0
            EOF
            chmod +x hooks/update.new && mv hooks/update.new hooks/update
            """, cwd: p.repo)
        let rej = try drift(["export", "--manifest", p.f.mdir, "--state", p.dir.sub("state-frozen"),
                             "--output", p.dir.sub("out-frozen"), "--push", url], env: ["DRIFT_HOST": "frozen-1"])
        #expect(rej.code == 2, "\(rej.out)\(rej.err)")
        let daemonLog = (try? String(contentsOfFile: p.dir.sub("git-daemon.log"), encoding: .utf8)) ?? ""
        #expect(rej.err.contains("rejected") && rej.err.contains("frozen hosts are read-only"),
                "\(rej.err)\n--- git daemon log:\n\(daemonLog)")
        #expect(rej.err.split(separator: "\n").count == 1)
        #expect(try p.ledgerRef(host: "frozen-1").isEmpty)

        // Same export, two readers, one judgement: --ledger ODIR and --ledger-refs.
        func gateBoth() throws -> ([[String: String]], [[String: String]], Run, Run) {
            let d = try drift(["gate", "--repo", p.repo, "--commit", "main", "--ledger", out, "--format", "json"])
            let g = try drift(["gate", "--repo", p.repo, "--commit", "main", "--ledger-refs", "--ledger-ref-prefix",
                               "refs/drift/gpu-node-7/", "--format", "json"])
            return (Self.judgement(d), Self.judgement(g), d, g)
        }
        var (fromDir, fromRefs, d, g) = try gateBoth()
        #expect(d.code == 1 && g.code == 1, "\(d.err)\(g.err)")
        #expect(fromDir.count == 1 && fromDir == fromRefs, "\(fromDir) vs \(fromRefs)")
        #expect(fromRefs.first?["status"] == "missing" && fromRefs.first?["host"] == "gpu-node-7")
        // The hotfix author applies the ref's patch on today's main with git am.
        let work = p.dir.sub("hotfix")
        try sh("""
            set -e
            git clone -q '\(p.repo)' '\(work)' && cd '\(work)'
            git --git-dir='\(p.repo)' show '\(ref):drift.patch' | git am -q -3
            git push -q origin HEAD:main
            """)
        (fromDir, fromRefs, d, g) = try gateBoth()
        #expect(d.code == 0 && g.code == 0, "\(d.out)\(d.err)\(g.out)\(g.err)")
        #expect(fromDir == fromRefs && fromRefs.first?["reason"] == "trailer", "\(fromDir) vs \(fromRefs)")
        #expect(fromRefs.first?["id"] == id)

        // All refs, the other host's too, are read; it is still missing.
        let all = try drift(["gate", "--repo", p.repo, "--commit", "main", "--ledger-refs"])
        #expect(all.code == 1 && all.out.contains("from other-host") && all.out.contains("ok       drift \(id)"),
                "\(all.out)\(all.err)")

        // A ref in today's earlier format (the export commit itself) is still read, under the
        // name drift push gives it; under another host's name it is invalid (exit 1).
        try sh("git --git-dir='\(p.repo)' fetch -q '\(out)/drift.bundle' "
               + "'refs/heads/drift/\(id):refs/drift/legacy-host/\(id)'")
        let misnamed = try drift(["gate", "--repo", p.repo, "--commit", "main", "--ledger-refs",
                                  "--ledger-ref-prefix", "refs/drift/legacy-host/"])
        #expect(misnamed.code == 1 && misnamed.out.contains("INVALID  drift \(id) from gpu-node-7: the ref is named "
                                                          + "legacy-host/\(id)"), "\(misnamed.out)\(misnamed.err)")
        try sh("git --git-dir='\(p.repo)' update-ref -d refs/drift/legacy-host/\(id) && "
               + "git --git-dir='\(p.repo)' fetch -q -f '\(out)/drift.bundle' '+refs/heads/drift/\(id):\(ref)'")
        let legacy = try drift(["gate", "--repo", p.repo, "--commit", "main", "--ledger-refs", "--ledger-ref-prefix",
                                "refs/drift/gpu-node-7/", "--format", "json"])
        // The same judgement, with its first sighting unknown: such a ref records none.
        var expected = fromRefs
        expected[0]["first_seen"] = nil
        #expect(legacy.code == 0 && Self.judgement(legacy) == expected, "\(legacy.out)\(legacy.err)")
        // Anything else under the prefix is one invalid entry naming the ref (judged with the others).
        try sh("""
            cd '\(p.repo)' && t=$(git hash-object -t tree -w /dev/null) && \
            git update-ref refs/drift/junk/0123456789abcdef $(git commit-tree $t -m junk)
            """)
        let junk = try drift(["gate", "--repo", p.repo, "--ledger-refs", "--ledger-ref-prefix", "refs/drift/junk/"])
        let invalid = "INVALID  drift 0123456789abcdef from unknown: is neither a ledger commit"
        #expect(junk.code == 1 && junk.out.contains(invalid)
                    && junk.out.contains("(refs/drift/junk/0123456789abcdef)"), "\(junk.out)\(junk.err)")
        daemon.stop()
        #expect(!daemon.groupAlive)
    }

    @Test("""
        ssh: OpenSSH on loopback; an unknown or changed host key is exit 2 naming host and key type; a known one \
        (hashed, via DRIFT_GIT_KNOWN_HOSTS, or plain in ~/.ssh/known_hosts) lets the key push; no key byte is printed
        """, .enabled(if: executable(["/usr/sbin/sshd"]) != nil, "skipped: Debian openssh-server is not installed"))
    func pushOverSSH() throws {
        let p = try PushFixture()
        defer { p.dir.remove() }
        let sdir = p.dir.sub("sshd")
        try FileManager.default.createDirectory(atPath: sdir, withIntermediateDirectories: true)
        let (sshd, port, user) = try Servers.sshd(dir: sdir)
        defer { sshd.stop() }
        try p.moveUpstream()
        try sh("printf 'fix = 2\\n' >> worker/util.py", cwd: p.f.workspace)
        let home = p.dir.sub("home")
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        let key = sdir + "/client_key"
        let url = "ssh://\(user)@127.0.0.1:\(port)\(p.repo)"
        let name = "[127.0.0.1]:\(port)"
        var env = ["HOME": home, "DRIFT_HOST": "ssh-node", "DRIFT_GIT_SSH_KEY": key]
        var runs: [Run] = []
        func push(_ u: String, _ extra: [String] = [], _ e: [String: String]) throws -> Run {
            let r = try drift(["push", u, "--manifest", p.f.mdir, "--state", p.f.state] + extra, env: e)
            runs.append(r)
            return r
        }
        let ex = try drift(["export", "--manifest", p.f.mdir, "--state", p.f.state, "--output", p.dir.sub("out")],
                           env: env)
        #expect(ex.code == 0, "\(ex.err)")

        // Unknown host: no known_hosts at all.
        let unknown = try push(url, [], env)
        #expect(unknown.code == 2 && unknown.err.contains(name) && unknown.err.contains("ssh-ed25519")
                && unknown.err.contains("unknown"),
                "\(unknown.out)\(unknown.err)")
        #expect(!unknown.err.contains("--credentials"), "no credential file on this box: \(unknown.err)")
        // The box has the push credential file (examples/vast-onstart.sh) but it was not passed:
        // the refusal names it (incident 11 F11); given it, it is used and not named.
        let boxCreds = p.dir.sub("etc-drift-push-credentials")
        try write(boxCreds, "ssh_key=\(key)\n")
        var boxEnv = env
        boxEnv["DRIFT_TEST_PUSH_CREDENTIALS"] = boxCreds
        let hinted = try push(url, [], boxEnv)
        #expect(hinted.code == 2 && hinted.err.contains("pass --credentials \(boxCreds)"), "\(hinted.err)")
        let given = try push(url, ["--credentials", boxCreds], boxEnv)
        #expect(given.code == 2 && given.err.contains("unknown") && !given.err.contains("pass --credentials"),
                "\(given.err)")
        // Changed: known_hosts lists another ed25519 key for this host and port.
        let otherKey = try sh("cut -d' ' -f1,2 '\(sdir)/client_key.pub'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try write(home + "/.ssh/known_hosts", "\(name) \(otherKey)\n")
        let changed = try push(url, [], env)
        #expect(changed.code == 2 && changed.err.contains(name) && changed.err.contains("ssh-ed25519")
                && changed.err.contains("CHANGED"),
                "\(changed.out)\(changed.err)")
        #expect(try p.ledgerRef(host: "ssh-node").isEmpty)

        // Known, hashed (ssh-keygen -H), named by DRIFT_GIT_KNOWN_HOSTS; the key from --credentials.
        let kh = p.dir.sub("known_hosts")
        try sh("ssh-keyscan -p \(port) -t ed25519 127.0.0.1 2>/dev/null > '\(kh)' && "
               + "ssh-keygen -q -H -f '\(kh)' 2>/dev/null && rm -f '\(kh).old'")
        #expect(try String(contentsOfFile: kh, encoding: .utf8).hasPrefix("|1|"))
        try write(p.dir.sub("creds"), "# ssh\nssh_key = \(key)\n")
        env["DRIFT_GIT_SSH_KEY"] = nil
        env["DRIFT_GIT_KNOWN_HOSTS"] = kh
        let ok = try push(url, ["--credentials", p.dir.sub("creds")], env)
        #expect(ok.code == 0 && ok.out.contains("pushed refs/drift/ssh-node/"), "\(ok.out)\(ok.err)")
        let ref = try p.ledgerRef(host: "ssh-node")
        #expect(try sh("git --git-dir='\(p.repo)' cat-file -p '\(ref)'").contains("Drift-Ledger: 1"))

        // Known, plain, in ~/.ssh/known_hosts (next to other hosts' lines); the key from the environment.
        let second = p.served + "/second.git"
        try sh("git clone -q --bare '\(p.repo)' '\(second)'")
        try sh("""
            { echo 'other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'; \
              ssh-keyscan -p \(port) -t ed25519 127.0.0.1 2>/dev/null; } > '\(home)/.ssh/known_hosts'
            """)
        env["DRIFT_GIT_KNOWN_HOSTS"] = nil
        env["DRIFT_GIT_SSH_KEY"] = key
        let plain = try push("ssh://\(user)@127.0.0.1:\(port)\(second)", [], env)
        #expect(plain.code == 0 && plain.out.contains("pushed"), "\(plain.out)\(plain.err)")

        // A key file that is not there: exit 2, a sentence, no push.
        env["DRIFT_GIT_SSH_KEY"] = p.dir.sub("no-such-key")
        let third = p.served + "/third.git"
        try sh("git clone -q --bare '\(p.repo)' '\(third)'")
        let nokey = try push("ssh://\(user)@127.0.0.1:\(port)\(third)", [], env)
        #expect(nokey.code == 2 && nokey.err.contains("not readable"), "\(nokey.out)\(nokey.err)")

        // No byte of the private key in anything drift printed or wrote.
        let all = try everythingDriftWrote(runs + [ex], dirs: [p.f.state, p.dir.sub("out")])
        let secretLines = try String(contentsOfFile: key, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("-----") }
        #expect(!secretLines.isEmpty)
        for line in secretLines { #expect(!contains(all, Array(line.utf8)), "a private key line leaked") }
        sshd.stop()
        #expect(!sshd.groupAlive)
    }

    @Test("""
        https: nginx + git http-backend with a throwaway CA and a token; trusted via DRIFT_GIT_CA_FILE it pushes; \
        without the CA, to a certificate for another name, or with a wrong token (bounded tries) it is exit 2
        """, .enabled(if: executable(["/usr/sbin/nginx"]) != nil && executable(["/usr/sbin/fcgiwrap"]) != nil,
                      "skipped: Debian nginx-light or fcgiwrap is not installed"))
    func pushOverHTTPS() throws {
        let p = try PushFixture()
        defer { p.dir.remove() }
        let wdir = p.dir.sub("web")
        try FileManager.default.createDirectory(atPath: wdir, withIntermediateDirectories: true)
        let token = "tok-" + (0..<24).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
        let wrongToken = "bad-" + (0..<24).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
        let (servers, good, wrongName) = try Servers.nginx(projectRoot: p.served, dir: wdir, token: token)
        defer { servers.forEach { $0.stop() } }
        try p.moveUpstream()
        try sh("printf 'fix = 3\\n' >> worker/util.py", cwd: p.f.workspace)
        let url = "https://localhost:\(good)/upstream.git"
        let home = p.dir.sub("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        var env = ["HOME": home, "DRIFT_HOST": "https-node", "DRIFT_GIT_TOKEN": token]
        var runs: [Run] = []
        func push(_ u: String, _ extra: [String] = [], _ e: [String: String]) throws -> Run {
            let r = try drift(["push", u, "--manifest", p.f.mdir, "--state", p.f.state] + extra, env: e)
            runs.append(r)
            return r
        }
        let ex = try drift(["export", "--manifest", p.f.mdir, "--state", p.f.state, "--output", p.dir.sub("out")],
                           env: env)
        #expect(ex.code == 0, "\(ex.err)")

        // The CA is not trusted: a clear line saying so.
        let untrusted = try push(url, [], env)
        #expect(untrusted.code == 2 && untrusted.err.contains("certificate")
                && untrusted.err.contains("DRIFT_GIT_CA_FILE"),
                "\(untrusted.out)\(untrusted.err)")
        // Trusted CA, but the certificate names other.example.
        env["DRIFT_GIT_CA_FILE"] = wdir + "/ca.pem"
        let misnamed = try push("https://localhost:\(wrongName)/upstream.git", [], env)
        #expect(misnamed.code == 2 && misnamed.err.contains("another host name")
                && misnamed.err.split(separator: "\n").count == 1,
                "\(misnamed.out)\(misnamed.err)")
        // A wrong token: refused, and drift stops asking after a few tries.
        let log = wdir + "/access.log"
        let before401 = try sh("grep -c '\" 401 ' '\(log)' || true").trimmingCharacters(in: .whitespacesAndNewlines)
        env["DRIFT_GIT_TOKEN"] = wrongToken
        let denied = try push(url, [], env)
        #expect(denied.code == 2 && denied.err.contains("refused the credentials (sent once"),
                "\(denied.out)\(denied.err)")
        let after401 = try sh("grep -c '\" 401 ' '\(log)' || true").trimmingCharacters(in: .whitespacesAndNewlines)
        let tries = (Int(after401) ?? 0) - (Int(before401) ?? 0)
        // One unauthenticated request, then one per try.
        #expect(tries >= 1 && tries <= 4, "\(tries) refused requests")
        // A token inside the URL is not echoed either, even where libgit2 fails on it.
        let inURL = try push("https://x-access-token:\(wrongToken)@localhost:\(wrongName)/upstream.git", [], env)
        #expect(inURL.code == 2 && !inURL.err.contains(wrongToken), "\(inURL.err)")
        #expect(try p.ledgerRef(host: "https-node").isEmpty)

        // The right token from a --credentials file, the CA from the environment.
        env["DRIFT_GIT_TOKEN"] = nil
        try write(p.dir.sub("creds"), "token=\(token)\n")
        let ok = try push(url, ["--credentials", p.dir.sub("creds")], env)
        #expect(ok.code == 0 && ok.out.contains("pushed refs/drift/https-node/"), "\(ok.out)\(ok.err)")
        let ref = try p.ledgerRef(host: "https-node")
        #expect(try sh("git --git-dir='\(p.repo)' cat-file -p '\(ref)'").contains("Drift-Ledger: 1"))
        // Token and CA from the credential file alone, to a second repository.
        try sh("git clone -q --bare '\(p.repo)' '\(p.served)/second.git'")
        try write(p.dir.sub("creds2"), "token=\(token)\nca_file=\(wdir)/ca.pem\n")
        let ok2 = try push("https://localhost:\(good)/second.git", ["--credentials", p.dir.sub("creds2")],
                           ["HOME": home, "DRIFT_HOST": "https-node"])
        #expect(ok2.code == 0, "\(ok2.out)\(ok2.err)")

        // Neither token printed nor written anywhere.
        let all = try everythingDriftWrote(runs + [ex], dirs: [p.f.state, p.dir.sub("out")])
        #expect(!contains(all, Array(token.utf8)) && !contains(all, Array(wrongToken.utf8)))
        for s in servers { s.stop() }
        #expect(servers.allSatisfy { !$0.groupAlive })
    }

    @Test("""
        fleet: 50 instances push distinct hotfixes over ssh (real sshd, checked host key); \
        gate --ledger-refs names every missing one with \
        its host, and passes once each is reconciled by git am of its ref's patch, by content, or by a waiver
        """)
    func fleet() throws {
        let p = try PushFixture()
        defer { p.dir.remove() }
        let sdir = p.dir.sub("sshd")
        try FileManager.default.createDirectory(atPath: sdir, withIntermediateDirectories: true)
        let (sshd, port, user) = try Servers.sshd(dir: sdir)
        defer { sshd.stop() }
        let url = "ssh://\(user)@127.0.0.1:\(port)\(p.repo)"
        let knownHosts = p.dir.sub("known_hosts")
        try sh("ssh-keyscan -p \(port) -t ed25519 127.0.0.1 2>/dev/null > '\(knownHosts)' && test -s '\(knownHosts)'")
        let sshEnv = ["DRIFT_GIT_SSH_KEY": sdir + "/client_key", "DRIFT_GIT_KNOWN_HOSTS": knownHosts]
        try p.moveUpstream()
        let n = 50
        let hotfix: @Sendable (Int) -> String = { i in "def fix_\(i)():\n    return \(i * 7919)\n" }
        let (workspace, mdir, top) = (p.f.workspace, p.f.mdir, p.dir.path)
        // One manifest; each host its own copy of the workspace with its own hotfix file, its
        // own state dir; four pushes at a time, as a fleet would.
        let results = LockedResults()
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for i in stride(from: lane, to: n, by: 4) {
                do {
                    let ws = top + "/ws\(i)"
                    try sh("cp -a '\(workspace)' '\(ws)'")
                    try write(ws + "/worker/hotfix_\(i).py", hotfix(i))
                    let r = try drift(["export", "--manifest", mdir, "--root", ws, "--state", top + "/s\(i)",
                                       "--output", top + "/o\(i)", "--push", url],
                                      env: sshEnv.merging(["DRIFT_HOST": "node-\(i)"]) { a, _ in a })
                    let pushed = r.code == 0 && r.out.contains("pushed refs/drift/node-\(i)/")
                    results.add(pushed ? nil : "node-\(i): \(r.out)\(r.err)")
                } catch {
                    results.add("node-\(i): \(error)")
                }
            }
        }
        #expect(results.failures.isEmpty, "\(results.failures)")
        let refs = try sh("git --git-dir='\(p.repo)' for-each-ref --format='%(refname)' refs/drift/")
            .split(separator: "\n").map(String.init)
        #expect(refs.count == n)
        func ref(_ i: Int) -> String { refs.first { $0.hasPrefix("refs/drift/node-\(i)/") } ?? "?" }

        let gate = ["gate", "--repo", p.repo, "--commit", "main", "--ledger-refs"]
        let first = try drift(gate)
        #expect(first.code == 1 && first.out.contains("REJECTED: \(n) drift entries"), "\(first.out)\(first.err)")
        for i in 0..<n {
            #expect(first.out.contains("from node-\(i), base")
                && first.out.contains("not upstream: worker/hotfix_\(i).py"))
        }
        // Reconcile: ten by git am of the ref's patch, the rest but one by writing the same content.
        let work = p.dir.sub("reconcile")
        try sh("git clone -q '\(p.repo)' '\(work)'")
        for i in 0..<10 {
            try sh("git --git-dir='\(p.repo)' show '\(ref(i)):drift.patch' | git am -q -3", cwd: work)
        }
        for i in 10..<(n - 1) { try write(work + "/worker/hotfix_\(i).py", hotfix(i)) }
        try sh("git add -A && git commit -qm 'take the fleet hotfixes' && git push -q origin HEAD:main", cwd: work)
        let second = try drift(gate + ["--format", "json"])
        #expect(second.code == 1)
        let judged = Self.judgement(second)
        #expect(judged.filter { $0["status"] == "missing" }.map { $0["host"] } == ["node-\(n - 1)"])
        #expect(judged.filter { $0["reason"] == "trailer" }.count == 10)
        #expect(judged.filter { $0["reason"] == "content" }.count == n - 11)
        // The last one by waiver.
        let lastID = String(ref(n - 1).split(separator: "/").last ?? "")
        try write(p.dir.sub("waive.yaml"),
                  "waivers:\n  - {id: \"\(lastID)\", reason: \"node retired\", expires: \"2999-01-01\"}\n")
        let third = try drift(gate + ["--policy", p.dir.sub("waive.yaml")])
        #expect(third.code == 0 && third.out.contains("gate: ok (\(n) ledger entries"), "\(third.out)\(third.err)")
        #expect(third.out.contains("waived   drift \(lastID) from node-\(n - 1)"))
    }
}

/// Failures collected from concurrent lanes.
final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ failure: String?) {
        guard let failure else { return }
        lock.lock()
        list.append(failure)
        lock.unlock()
    }
    var failures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return list
    }
}

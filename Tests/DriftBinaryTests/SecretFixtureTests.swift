import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22, false positives: the generic `secret assignment` rule does not fire in test
/// fixtures (`SecretScope`), while a key drift knows from a source and every known format
/// are withheld there like anywhere else, end to end (scan, export, bundle, journal, forget, push).
@Suite("SecretFixture")
struct SecretFixtureTests {
    @Test("a random-looking token in tests/ is exported; an env key and a GitHub token pasted into tests/ are not")
    func fixtureScopeEndToEnd() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let fake = "Rw4nQ8zL1vK7tX3mB9pC2hJ6fD0sG5yA"
        let envKey = "ek" + String(format: "%08x%08x%08x", UInt32.random(in: 0...UInt32.max),
                                   UInt32.random(in: 0...UInt32.max), UInt32.random(in: 0...UInt32.max))
        let gh = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
        let known = ["BILLING_SERVICE_TOKEN": envKey]
        try write(f.workspace + "/tests/test_client.py", "FIXTURE = {\"refresh-token\": \"\(fake)\"}\n")
        try write(f.workspace + "/tests/conftest.py", "import pytest\n\nSERVICE = {'auth': '\(envKey)'}\n")
        try write(f.workspace + "/worker/gh_test.py", "GH = '\(gh)'\n")
        try write(f.workspace + "/worker/client.py", "FIXTURE = {\"refresh-token\": \"\(fake)\"}\n")
        let scan = try drift(["scan", "--format", "json"] + common, env: known)
        #expect(scan.code == 1, "\(scan.err)")
        let json = try JSONSerialization.jsonObject(with: Data(scan.out.utf8)) as? [String: Any]
        let files = (json?["files"] as? [[String: Any]]) ?? []
        let withheld = Set(files.filter { (($0["flags"] as? [String]) ?? []).contains("secret-content") }
            .compactMap { $0["path"] as? String })
        #expect(withheld == ["tests/conftest.py", "worker/gh_test.py", "worker/client.py"], "\(withheld)")
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--output", out] + common, env: known)
        #expect(ex.code == 0, "\(ex.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+++ b/tests/test_client.py") && patch.contains(fake), "the fixture is exported")
        #expect(!patch.contains("+++ b/worker/client.py"), "the same line outside tests/ is not")
        let bundle = try ExportSecretsTests.bundleObjects(out + "/drift.bundle", f: f, name: "c0")
        #expect(bundle.contains(fake))
        for secret in [envKey, gh] {
            try ExportSecretsTests.noTrace(patch, secret, "drift.patch")
            try ExportSecretsTests.noTrace(bundle, secret, "bundle")
            try ExportSecretsTests.noTrace(try ForgetTests.allObjects(f.state + "/journal.git"), secret, "journal")
        }
        // forget judges the ledger's patch file by file: the fixture's export is not dropped.
        let forget = try drift(["forget"] + common, env: known)
        #expect(forget.code == 0, "\(forget.err)")
        #expect(forget.out.contains("removed 0 blobs") && !forget.out.contains("dropped"), "\(forget.out)")
        let refs = try sh("git --git-dir='\(f.state)/journal.git' for-each-ref --format='%(refname)'")
        #expect(refs.contains("refs/drift-ledger/") && refs.contains("refs/drift-exports/"), "\(refs)")
        // And push re-checks the chain with the same scopes: sent, without the known secrets.
        let remote = f.dir.sub("remote.git")
        try sh("git clone -q --bare '\(f.upstream)' '\(remote)'")
        let push = try drift(["push", remote] + common, env: known)
        #expect(push.code == 0, "\(push.err)")
        let pushed = try ForgetTests.allObjects(remote)
        for secret in [envKey, gh] { try ExportSecretsTests.noTrace(pushed, secret, "the pushed ref") }
    }

    @Test("a key learned later from .env, pasted into a test fixture before: withheld from export, forget removes it")
    func learnedKeyInFixture() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let key = "lk" + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max),
                                UInt32.random(in: 0...UInt32.max))
        try write(f.workspace + "/tests/test_api.py", "API = '\(key)'\n")
        try sh("echo 'FIX = 3' >> worker/util.py", cwd: f.workspace)
        #expect(try drift(["scan"] + common).code == 1)
        #expect(try ForgetTests.allObjects(f.state + "/journal.git").contains(key), "journaled: not known yet")
        try sh("printf 'PAYMENTS_API_KEY=\"%s\"  # rotated\\n' '\(key)' > .env", cwd: f.workspace)
        // The export's own scan sees the new .env: it records the drift afresh with the key withheld.
        let ex = try drift(["export", "--output", f.dir.sub("o1")] + common)
        #expect(ex.code == 0 && !ex.err.contains(key), "\(ex.err)")
        let first = String(decoding: try readWholeFile(f.dir.sub("o1") + "/drift.patch"), as: UTF8.self)
        #expect(first.contains("tests/test_api.py") && first.contains("secret content"))
        try ExportSecretsTests.noTrace(first, key, "drift.patch")
        try ExportSecretsTests.noTrace(try ExportSecretsTests.bundleObjects(f.dir.sub("o1") + "/drift.bundle", f: f,
                                                                          name: "c0"), key, "bundle")
        let forget = try drift(["forget"] + common)
        #expect(forget.code == 0 && forget.out.contains("removed 1 blob"), "\(forget.out)\(forget.err)")
        try ExportSecretsTests.noTrace(try ForgetTests.allObjects(f.state + "/journal.git"), key, "journal")
        let again = try drift(["export", "--force", "--output", f.dir.sub("o2")] + common)
        #expect(again.code == 0, "\(again.err)")
        let patch = String(decoding: try readWholeFile(f.dir.sub("o2") + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 3"))
        try ExportSecretsTests.noTrace(patch, key, "drift.patch")
    }
}

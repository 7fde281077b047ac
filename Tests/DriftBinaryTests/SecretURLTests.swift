import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22, attacker's pass: a database or broker password arrives in a variable whose name
/// says only URL (`DATABASE_URL=postgres://app:PASS@db/app`); the password is a secret anyway.
@Suite("SecretURL")
struct SecretURLTests {
    @Test("a URL with a password is a secret source whatever the variable's name; one without is not")
    func urlPasswordAnyName() {
        func variable(_ n: String, _ v: String) -> SecretEnvironment.Variable {
            .init(name: Array(n.utf8), value: Array(v.utf8), origin: .mainProcess)
        }
        let env = SecretEnvironment(variables: [
            variable("DATABASE_URL", "postgres://app:Hq7vPz2mXk9w@db:5432/app"),
            variable("DOCS_URL", "https://docs.example.org/v2/index.html"),
            variable("REDIS_URL", "redis://:x@cache:6379/0"),
        ])
        let names = Policy.defaultSecretNames
        #expect(env.secretValues(names: names) == [Array("Hq7vPz2mXk9w".utf8)])
        #expect(env.secretNamedCount(names: names) == 1)
        #expect(env.secretValues(names: PatternList([])).isEmpty, "secret_names: [] turns it off")
    }

    @Test("DATABASE_URL's password only in drift's environment: pasted into code, withheld end to end")
    func databaseURLWithheld() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let pw = "Pg" + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max),
                               UInt32.random(in: 0...UInt32.max))
        let env = ["DATABASE_URL": "postgresql://billing:\(pw)@10.0.3.7:5432/billing",
                   "STATUS_PAGE_URL": "https://status.example.org/api/v2"]
        try write(f.workspace + "/worker/db.py",
                  "ENGINE = create_engine('postgresql://billing:\(pw)@10.0.3.7/billing')\n")
        try write(f.workspace + "/worker/status.py", "STATUS = 'https://status.example.org/api/v2'\n")
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--output", out] + common, env: env)
        #expect(ex.code == 0, "\(ex.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(!patch.contains("+++ b/worker/db.py") && patch.contains("worker/db.py"))
        #expect(patch.contains("+++ b/worker/status.py"), "a URL without a password is not a secret")
        try ExportSecretsTests.noTrace(patch, pw, "drift.patch")
        try ExportSecretsTests.noTrace(try ExportSecretsTests.bundleObjects(out + "/drift.bundle", f: f, name: "c0"),
                                       pw, "bundle")
        try ExportSecretsTests.noTrace(try ForgetTests.allObjects(f.state + "/journal.git"), pw, "journal")
    }
}

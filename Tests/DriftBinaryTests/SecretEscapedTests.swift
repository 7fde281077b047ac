import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22, attacker's pass: a dotenv value holding a tab or a quote (`"…\tend\"q"`), pasted
/// into code as a string literal spells it with escapes; the literal is the secret.
@Suite("SecretEscaped")
struct SecretEscapedTests {
    @Test("escaped spellings: C/Python in either quote, JSON, shell; none for a plain value")
    func spellings() {
        let v = Array("ab\tc\"d'e\\f\u{1}".utf8)
        let forms = Set(SecretEncodings.escaped(v).map { String(decoding: $0, as: UTF8.self) })
        #expect(forms.contains(#"ab\tc\"d'e\\f\x01"#), "\(forms)")
        #expect(forms.contains(#"ab\tc"d\'e\\f\x01"#), "\(forms)")
        #expect(forms.contains(#"ab\tc\"d'e\\f\u0001"#), "\(forms)")
        #expect(forms.contains("ab\tc\\\"d'e\\\\f\u{1}"), "shell double quotes: \(forms)")
        #expect(SecretEncodings.escaped(Array("Zx81Lq0PmN7vB2cX".utf8)).isEmpty)
        #expect(Set(SecretEncodings.escaped(Array("pa$$w0rd-Zx81".utf8)).map { String(decoding: $0, as: UTF8.self) })
            == [#"pa\$\$w0rd-Zx81"#])
    }

    @Test("a .env value with a tab and a quote, pasted as a Python literal, a JSON string and raw: withheld")
    func escapedPasteWithheld() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let head = "q7" + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max),
                                 UInt32.random(in: 0...UInt32.max))
        let value = head + "\tend\"q"
        try write(f.workspace + "/.env", "LEDGER_PASSWORD=\"\(head)\\tend\\\"q\"\n")
        try write(f.workspace + "/worker/py_lit.py", "PW = \"\(head)\\tend\\\"q\"\n")
        try write(f.workspace + "/worker/py_single.py", "PW = '\(head)\\tend\"q'\n")
        try write(f.workspace + "/config/creds.json", "{\"pw\": \"\(head)\\tend\\\"q\"}\n")
        try write(f.workspace + "/worker/raw.py", "PW = '''\(value)'''\n")
        try write(f.workspace + "/worker/other.py", "PW = \"zz81Lq0PmN7vB2cX9w\\tend\\\"q\"\n")
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--output", out] + common)
        #expect(ex.code == 0, "\(ex.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        for p in ["worker/py_lit.py", "worker/py_single.py", "worker/raw.py"] {
            #expect(!patch.contains("+++ b/" + p) && patch.contains(p), "\(p) withheld and named")
        }
        #expect(patch.contains("+++ b/worker/other.py"), "another value spelled the same way is not the secret")
        let scan = try drift(["scan", "--format", "json"] + common)
        let hash = try ExportSecretsTests.hash(value)
        #expect(scan.out.contains("config/creds.json") && !scan.out.contains(hash))
        let text = try ExportSecretsTests.bundleObjects(out + "/drift.bundle", f: f, name: "c0")
            + (try ForgetTests.allObjects(f.state + "/journal.git"))
        for spelled in [value, "\(head)\\tend\\\"q", "\(head)\\tend\"q"] {
            #expect(!text.contains(spelled), "bundle or journal holds \(spelled)")
            #expect(!patch.contains(spelled), "patch holds \(spelled)")
        }
    }
}

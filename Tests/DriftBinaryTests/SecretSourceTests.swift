import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A venv with python-dotenv from PyPI, made once per machine (the oracle for `DotEnv`).
enum DotenvOracle {
    static let venv = "/tmp/drift-test-dotenv-venv"

    static func available() -> Bool {
        let py = venv + "/bin/python"
        if (try? run([py, "-c", "import dotenv"]))?.code == 0 { return true }
        guard (try? run(["python3", "-m", "venv", venv]))?.code == 0 else { return false }
        let r = try? run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "python-dotenv"],
                         timeout: 300)
        return r?.code == 0
    }

    /// `dotenv_values(path)` as JSON, in an environment with nothing to interpolate from.
    static func values(_ path: String) throws -> [String: String?] {
        let script = "import json,sys\nfrom dotenv import dotenv_values\n"
            + "print(json.dumps(dotenv_values(sys.argv[1])))\n"
        let r = try run(["/usr/bin/env", "-i", venv + "/bin/python", "-c", script, path])
        guard r.code == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
            throw DriftError("python-dotenv failed: \(r.err)")
        }
        return obj.mapValues { $0 as? String }
    }
}

/// Everything that leaves the box or stays in the state dir, as text to search for a secret.
struct LeakSearch {
    var texts: [(String, String)] = []

    mutating func add(_ what: String, _ text: String) { texts.append((what, text)) }

    mutating func addFile(_ what: String, _ path: String) {
        if let b = try? readWholeFile(path) { texts.append((what, String(decoding: b, as: UTF8.self))) }
    }

    /// Every object (packs, loose, notes: `--batch-all-objects`) of a repository, content included.
    mutating func addRepository(_ what: String, _ gitDir: String) throws {
        let r = try run(["git", "--git-dir=" + gitDir, "cat-file", "--batch-all-objects", "--batch"])
        texts.append((what, r.out))
    }

    /// The value, and its SHA-256 (with and without a trailing newline), appear nowhere.
    func expectAbsent(_ value: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let hashes = [Array(value.utf8), Array((value + "\n").utf8)].compactMap { try? SHA256Hasher.digest($0).hex }
        for (what, text) in texts {
            #expect(!text.contains(value), "\(label): \(what) holds the value", sourceLocation: sourceLocation)
            for h in hashes {
                #expect(!text.contains(h), "\(label): \(what) holds its SHA-256", sourceLocation: sourceLocation)
            }
        }
    }
}

@Suite("Secret sources")
struct SecretSourceTests {
    // MARK: dotenv

    static let dotenvForms = """
        # a comment line
        PLAIN=plainvalue0001
        export EXPORTED=exportedvalue02
        SPACED = spacedvalue003
        SINGLE='single value 04'  # prod
        DOUBLE="double value 05" # prod
        HASHED=hashedvalue06 # prod
        INHASH=in#hashvalue07
        EMPTYC= # only a comment
        ESCD="tab\\there\\nnewline\\\\back\\"quote"
        ESCS='keep\\n \\'quoted\\' \\\\'
        MULTI="-----BEGIN-ISH
        line two of the value
        line three"
        MULTIS='first single line
        second single line'
        'QUOTED KEY'=quotedkeyvalue08
        REF=${PLAIN}-suffix
        DEFAULTED=${MISSING:-fallbackvalue09}
        NOVALUE
        BAD="unterminated
        AFTER=aftervalue10
        CRLF=crlfvalue11\r
        TRAIL=trailingvalue12   \t
        ODD ="odd spacing 13"junk
        LAST=lastvalue14
        """

    @Test("dotenv: every form reads as python-dotenv (from PyPI) reads it",
          .enabled(if: DotenvOracle.available(), "python-dotenv could not be installed from PyPI"))
    func dotenvAgainstPython() throws {
        let dir = try TempDir("drift-dotenv")
        defer { dir.remove() }
        let cases = [Self.dotenvForms, "\u{FEFF}BOM=bomvalue\nX='a\\\\'b'\n", "A=1\r\nB='x\r\ny'\rC=c\n",
                     "export  EXP=spaced\nexport=notakey\n  indented=yes\n#c\n\n", "K=\"a\\'b\\zc\"\nJ=\"\"\nI=''\n"]
        for (n, text) in cases.enumerated() {
            let path = dir.sub("env\(n)")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let want = try DotenvOracle.values(path)
            var got: [String: String?] = [:]
            for (k, v) in DotEnv.values(Array(text.utf8)) {
                let key = String(decoding: k, as: UTF8.self)
                got.updateValue(v.map { String(decoding: $0, as: UTF8.self) }, forKey: key)
            }
            #expect(got == want, "case \(n):\n\(text)")
        }
    }

    @Test("secret files that are not KEY=VALUE: PEM body lines and JSON key fields are values")
    func pemAndJSONValues() throws {
        let body = [String](repeating: "", count: 3).enumerated().map { i, _ in
            (i == 1 ? "/" : "") + String(repeating: "MIIBq\(i)xyzABC", count: 5)
        }
        let pem = "-----BEGIN PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END PRIVATE KEY-----\n"
        let values = Set(SecretFileValues.values(Array(pem.utf8)).map { String(decoding: $0, as: UTF8.self) })
        for line in body { #expect(values.contains(line)) }
        #expect(values.contains(body.joined()))
        let keyID = String(repeating: "ab12", count: 10)
        let json = """
            {"type": "service_account", "project_id": "proj-7", "private_key_id": "\(keyID)",
             "private_key": "\(pem.replacingOccurrences(of: "\n", with: "\\n"))",
             "client_email": "svc@proj-7.iam.gserviceaccount.com",
             "token_uri": "https://oauth2.googleapis.com/token"}
            """
        let jv = Set(SecretFileValues.values(Array(json.utf8)).map { String(decoding: $0, as: UTF8.self) })
        #expect(jv.contains(body[1]) && !jv.contains(keyID), "a key id is no secret (the format rule covers it)")
        #expect(!jv.contains("https://oauth2.googleapis.com/token") && !jv.contains("service_account"),
                "fields that are not secret (a URL every client has) are not values")
    }

    // MARK: environment

    @Test("environment: names by policy pattern, trivial values skipped, supervisord and environ parsed")
    func environmentValues() throws {
        var env = SecretEnvironment()
        env.addEnviron(Array("OPENAI_API_KEY=sk-live-0123456789\0FOO_KEY=1\0PATH=/usr/bin\0db_password=hunter2hunter2\0"
            .utf8), origin: .mainProcess)
        env.addSupervisordConfig(Array("""
            [program:worker]
            command=/usr/bin/python worker.py
            environment=HF_TOKEN="hf-tok-%%-998877",PLAIN=notsecretvalue,
                REDIS_DSN='redis://u:redispass99@r:6379/0'
            """.utf8))
        env.variables.append(.init(name: Array("DRIFT_GIT_SSH_KEY".utf8), value: Array("/etc/drift/push_key".utf8),
                                   origin: .drift))
        env.variables.append(.init(name: Array("PLACEHOLDER_TOKEN".utf8), value: Array("changeme".utf8),
                                   origin: .drift))
        let values = Set(env.secretValues(names: Policy.defaultSecretNames).map { String(decoding: $0, as: UTF8.self) })
        #expect(values == ["sk-live-0123456789", "hunter2hunter2", "hf-tok-%-998877",
                           "redis://u:redispass99@r:6379/0", "redispass99"], "\(values)")
        let policy = try Policy.parse(Array("secret_names: [\"*_MAGIC\"]\n".utf8), file: "p.yaml")
        let custom = env.secretValues(names: policy.secretNames)
        // A policy's secret_names replaces the default list; a URL's password counts whatever the name.
        #expect(custom.map { String(decoding: $0, as: UTF8.self) } == ["redispass99"], "\(custom)")
        let builtIn = try Policy.builtIn()
        #expect(builtIn.secretNames.patterns.map(\.text) == Policy.defaultSecretNameTexts,
                "policies/default.yaml lists the same names as the compiled-in default")
    }

    // MARK: formats

    /// (rule, positive, negative): each rule fires on the first and not on the second.
    static var formatCases: [(SecretRule, String, String)] {
        let b64 = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4"
        return [
            (.privateKey, "KEY = '''-----BEGIN RSA PRIVATE KEY-----\n\(b64)\n\(b64)\n-----END RSA PRIVATE KEY-----'''",
             "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    parse(line)\n"),
            (.awsAccessKey, "aws_id = '" + "AKIA" + "Z7Q2RX4VN6BM3KLP" + "'",
             "aws_id = '" + "AKIA" + "IOSFODNN7EXAMPLE'"),
            (.gcpServiceAccount, "{\"private_key_id\": \"" + String(repeating: "0f3a", count: 10) + "\"}",
             "{\"private_key_id\": \"<id>\"}"),
            (.gcpAPIKey, "k = '" + "AIza" + "SyB3x9Qf7LmN2pR5tV8wZ1cE4gH6jK0oU-_'", "k = 'AIza' + suffix"),
            (.githubToken, "t = '" + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "'", "prefix = 'ghp_'"),
            (.gitlabToken, "t = '" + "glpat-" + "x7Yb2Kq9Lm4Np8Rs3Tv6" + "'", "t = 'glpat-' + os.environ['T']"),
            (.slackToken, "t = '" + "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx" + "'",
             "t = 'xoxb-your-token'"),
            (.slackWebhook, "url = 'https://" + "hooks.slack.com/services/" + "T0ABC1234/B0DEF5678/"
                + "abcdefghijABCDEFGHIJ1234'", "url = 'https://hooks.slack.com/services/T000/B000/XXXX'"),
            (.jwt, "h = '" + "eyJhbGciOiJIUzI1NiJ9" + ".eyJpc3MiOiJhdXRoIiwiZXhwIjoxOTAwMDAwMDAwfQ"
                + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
             "doc = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.4twFt5NiznN84AWoo1d7KO1T_yoc0Z6X'"),
            (.huggingFaceToken, "t = '" + "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh" + "'", "t = 'hf_hub_download'"),
            (.openAIKey, "k = '" + "sk-" + "proj-a1B2c3D4e5F6g7H8i9J0" + "T3BlbkFJ" + "k1L2m3N4o5P6q7R8s9T0'",
             "k = 'sk-' + key"),
            (.anthropicKey, "k = '" + "sk-ant-" + "api03-" + String(repeating: "aB3dE5gH7j", count: 9) + "'",
             "k = 'sk-ant-...'"),
            (.stripeKey, "k = '" + "sk_live_" + "51HqLyjWDarjtT1zdp7dc" + "'", "k = 'sk_live_'"),
            (.secretAssignment, "API_SECRET = \"q8Zr2LmX0vPa7NcT4yWb\"",
             "API_SECRET = os.environ[\"API_SECRET\"]  # PBKDF2PasswordHasher"),
        ]
    }

    @Test("test fixtures: the generic assignment rule does not fire there; every known format still does")
    func fixtureScope() {
        // The two false positives measured in a real site-packages (docs/secrets.md).
        let kube = "        \"refresh-token\": \"lucWJjEhlxZW01cXI3YmVlcYnpxNGhzk\",\n"
        let mine = "    api_token = \"Qm7vT2kx9LpZ4nW8rB3yH6cF1dJ5sA0e\"\n"
        for line in [kube, mine] {
            #expect(SecretFormats.find(Array(line.utf8), scope: .code) == .secretAssignment, "code: \(line)")
            #expect(SecretFormats.find(Array(line.utf8), scope: .testFixture) == nil, "fixture: \(line)")
        }
        // Every other rule fires in a fixture exactly as in code.
        for (rule, pos, neg) in Self.formatCases where rule != .secretAssignment {
            #expect(SecretFormats.find(Array(pos.utf8), scope: .testFixture) == rule, "\(rule.rawValue): \(pos)")
            #expect(SecretFormats.find(Array(neg.utf8), scope: .testFixture) == nil, "\(rule.rawValue): \(neg)")
        }
        // Which paths are a test suite's.
        for p in ["kubernetes/aio/config/kube_config_test.py", "websocket/tests/test_websocket.py", "tests/x.json",
                  "pkg/Test/data.yaml", "src/testing/helpers.py", "conftest.py", "app/conftest.py", "test_x.py",
                  "x_test.go", "lib/x_tests.rs", "web/x.test.js", "web/x.spec.ts", "a/__tests__/b.js",
                  "go/testdata/creds.txt"] {
            #expect(SecretScope(path: Array(p.utf8)) == .testFixture, "\(p)")
        }
        for p in ["transformers/testing_utils.py", "app/contest.py", "attest/x.py", "latest/x.py", "testx/y.py",
                  "app/settings.py", "tests", "protest_.py", "x.tests", ".test.js", "app/test.py"] {
            #expect(SecretScope(path: Array(p.utf8)) == .code, "\(p)")
        }
    }

    @Test("protocol nonces: a Sec-WebSocket-Key or Idempotency-Key value is not a credential; an API key header is")
    func protocolNonceNames() {
        for s in ["\"Sec-WebSocket-Key\": \"k9kFAUWNAMmf5OEMfTlOEA==\"", "sec_websocket_key = \"q8Zr2LmX0vPa7NcT4yWb\"",
                  "headers['Idempotency-Key'] = 'q8Zr2LmX0vPa7NcT4yWb'"] {
            #expect(SecretFormats.find(Array(s.utf8)) == nil, "fires on: \(s)")
        }
        for s in ["\"X-Api-Key\": \"k9kFAUWNAMmf5OEMfTlOEA==\"", "\"Sec-WebSocket-Token\": \"q8Zr2LmX0vPa7NcT4yWb\"",
                  "websocket_key = \"q8Zr2LmX0vPa7NcT4yWb5s1Ke9Jd3Hf6\""] {
            #expect(SecretFormats.find(Array(s.utf8)) == .secretAssignment, "misses: \(s)")
        }
    }

    @Test("a patch is judged file by file: a fixture's section as a fixture, a renamed or quoted path as code")
    func patchSections() {
        let value = "Qm7vT2kx9LpZ4nW8rB3yH6cF1dJ5sA0e"
        func patch(_ a: String, _ b: String) -> [UInt8] {
            Array(("From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] drift\n\n---\n"
                + "diff --git a/app/x.py b/app/x.py\n--- a/app/x.py\n+++ b/app/x.py\n@@ -1 +1 @@\n-a\n+b\n"
                + "diff --git \(a) \(b)\nnew file mode 100644\n--- /dev/null\n+++ \(b)\n@@ -0,0 +1 @@\n"
                + "+api_token = \"\(value)\"\n").utf8)
        }
        let index = SecretIndex()
        #expect(!index.matches(patch: patch("a/tests/test_x.py", "b/tests/test_x.py")))
        #expect(index.matches(patch: patch("a/app/y.py", "b/app/y.py")))
        #expect(index.matches(patch: patch("a/app/y.py", "b/tests/test_x.py")), "a rename is judged as code")
        #expect(index.matches(patch: patch("\"a/tests/t\\303.py\"", "\"b/tests/t\\303.py\"")), "quoted: code")
        let gh = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        #expect(index.matches(patch: Array((String(decoding: patch("a/tests/t.py", "b/tests/t.py"), as: UTF8.self)
            .replacingOccurrences(of: value, with: gh)).utf8)), "a known format in a fixture's section")
    }

    @Test("every credential rule: a positive and a negative")
    func formatRules() {
        let cases = Self.formatCases
        #expect(Set(cases.map(\.0)) == Set(SecretRule.allCases), "each rule has a case")
        for (rule, pos, neg) in cases {
            #expect(SecretFormats.find(Array(pos.utf8)) == rule, "\(rule.rawValue) misses: \(pos)")
            #expect(SecretFormats.find(Array(neg.utf8)) == nil, "\(rule.rawValue) fires on: \(neg)")
        }
        // Assignment names and values that are not secrets.
        for s in ["tokenizer = \"bert-base-uncased-v2-2024\"",
                  "password = \"correct horse battery staple\"", "SECRET_KEY = \"{{ secret_key }}\"",
                  "monkey = \"Zx81Lq0PmN7vB2cX9wQa\"", "token == \"Zx81Lq0PmN7vB2cX9wQa\"",
                  "api_key = \"xxxxxxxxxxxxxxxx1234\"", "key: Ed25519PrivateKey | None",
                  "Next page token: eav1OzQB0OM8rLdGXOEsyQWSG", "next_token = \"a8Zr2LmX0vPa7NcT4yWb\"",
                  "ClientRequestToken: \"a8ca07e4-61ec-4399-99f4-19853801bcd5\"",
                  "curve_public_key_len = crypto_sign_curve25519_BYTES"] {
            #expect(SecretFormats.find(Array(s.utf8)) == nil, "fires on: \(s)")
        }
        // Private keys: only a real body counts (measured false positives of rsa, msal, awscli docs).
        let ed25519 = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
            + "QyNTUxOQAAACDq3Lr0Ub7XbW0fR9r0B2YkGmXh3qkqL1m0v3hT2Z8yMwAAAJgS2c0wEtnN"
        let ec = "MHcCAQEEIBvQ3Zq2nDkC1x0vCw7mJr8sTqk7bJ3M1yAq5m9o7bUwoAoGCCqGSM49AwEHoUQDQgAE"
        for s in ["-----BEGIN OPENSSH PRIVATE KEY-----\n\(ed25519)\n-----END OPENSSH PRIVATE KEY-----\n",
                  "pem = (\"-----BEGIN EC PRIVATE KEY-----\\n\"\n    \"\(ec)\\n\"\n    \"\(ec)\\n\")",
                  "{\"key\": \"-----BEGIN PRIVATE KEY-----\\n\(ec)\\n\(ec)\\n-----END PRIVATE KEY-----\\n\"}"] {
            #expect(SecretFormats.find(Array(s.utf8)) == .privateKey, "misses: \(s)")
        }
        for s in ["when your file has '-----BEGIN RSA PRIVATE KEY-----' and\n        '-----END RSA PRIVATE KEY-----'"
                    + " markers, you can load it with from the documentation of the module",
                  "\"private_key\": \"...-----BEGIN PRIVATE KEY-----... in PEM format\",\n"
                    + "    \"thumbprint\": \"A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6A1B2\",",
                  "\"privateKeyBase64\": \"-----BEGIN RSA PRIVATE KEY-----EXAMPLETCCAfICCQD6m7oRw0uXOjANBgkqhkiG9w0"
                    + "BAQUFADCBiDELMAkGA1UEBhMCVVMxCzAJBgNVBAgTAldBMRAwDgYDVQQHEwdTZWF0\"",
                  "-----BEGIN OPENSSH PRIVATE KEY-----\n\(ec)\n\(ec)\n-----END OPENSSH PRIVATE KEY-----\n",
                  "X-Amz-Credential=" + "AKIA" + "EXAMPLEPBUMBC3GA" + "%2F20170824"] {
            #expect(SecretFormats.find(Array(s.utf8)) == nil, "fires on: \(s)")
        }
        // Assignments whose value is an encoded text, a typed-in sequence, a labelled placeholder,
        // or too short for a name that says only `key`.
        for s in ["DEFAULT_TOKEN = \"eyJzZXNzaW9uX2lkIjogImRlZmF1bHQifQ\"", "key = \"c6b8hTg4EeGb2gQMztV1/g==\"",
                  "key = \"dGhlIHNhbXBsZSBub25jZQ==\"", "\"ExportToken\": \"export-token-cu4lg26ofcziixny\"",
                  "\"streamKey\": \"rt_123456789012_us-west-2_AbCdEfGh1234_abcd1234efgh5678ijkl9012MNOP34\""] {
            #expect(SecretFormats.find(Array(s.utf8)) == nil, "fires on: \(s)")
        }
        for s in ["key = \"q8Zr2LmX0vPa7NcT4yWb5s1Ke9Jd3Hf6\"",
                  "\"VerifyToken\": \"QTKknzFg2J4ygwa+XvHAxUl1hyHoY0gVf\"",
                  "apiKey: 'Zx81Lq0PmN7vB2cX9wQa'", "\"client_secret\": \"Zx81Lq0PmN7vB2cX9wQa\"",
                  "db.password=Zx81Lq0PmN7vB2cX9wQa\n", "os.environ[\"MY_TOKEN\"] = \"Zx81Lq0PmN7vB2cX9wQa\""] {
            #expect(SecretFormats.find(Array(s.utf8)) == .secretAssignment, "misses: \(s)")
        }
    }
}

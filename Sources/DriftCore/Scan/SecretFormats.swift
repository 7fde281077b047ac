/// Credentials recognised by their shape, wherever they appear in drifted code or config
/// (in the spirit of gitleaks' rules; the rule list and its measured false positives are in
/// docs/secrets.md). Bytes are scanned once; each rule starts at a fixed prefix, so the cost
/// is one pass plus a few checks where a prefix byte occurs.
public enum SecretRule: String, Sendable, CaseIterable {
    case privateKey = "private key (PEM)"
    case awsAccessKey = "AWS access key id"
    case gcpServiceAccount = "GCP service account key"
    case gcpAPIKey = "Google API key"
    case githubToken = "GitHub token"
    case gitlabToken = "GitLab token"
    case slackToken = "Slack token"
    case slackWebhook = "Slack webhook"
    case jwt = "JSON web token"
    case huggingFaceToken = "Hugging Face token"
    case openAIKey = "OpenAI key"
    case anthropicKey = "Anthropic key"
    case stripeKey = "Stripe key"
    case secretAssignment = "secret assignment"
}

public enum SecretFormats {
    /// The first credential found in `bytes`, if any; in a test fixture the generic
    /// `secret assignment` rule does not fire (`SecretScope`).
    public static func find(_ bytes: [UInt8], scope: SecretScope = .code) -> SecretRule? {
        locate(bytes, scope: scope)?.rule
    }

    /// The first credential found in `bytes` and the offset where its rule fired (for the
    /// false-positive measurement's hit list; never shown with the bytes around it otherwise).
    public static func locate(_ bytes: [UInt8], scope: SecretScope = .code) -> (rule: SecretRule, offset: Int)? {
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            guard let r = find(b, from: &i, scope: scope) else { return nil }
            return (r, i)
        }
    }

    static func find(_ b: UnsafeBufferPointer<UInt8>, from i: inout Int, scope: SecretScope) -> SecretRule? {
        let n = b.count
        while i < n {
            let c = b[i]
            switch c {
            case 0x2D: // -
                if privateKey(b, i) { return .privateKey }
            case 0x41: // A
                if let r = startingWithA(b, i) { return r }
            case 0x67: // g
                if let r = startingWithG(b, i) { return r }
            case 0x78: // x
                if slackToken(b, i) { return .slackToken }
            case 0x68: // h
                if let r = startingWithH(b, i) { return r }
            case 0x73, 0x72: // s, r
                if let r = startingWithS(b, i) { return r }
            case 0x65: // e
                if jwt(b, i) { return .jwt }
            case 0x70: // p
                if gcpServiceAccount(b, i) { return .gcpServiceAccount }
            case 0x3D, 0x3A: // = :
                if scope == .code, SecretAssignment.at(b, i) { return .secretAssignment }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    // MARK: character classes

    static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isAlnum(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) || isDigit(c) }
    /// base64url and the usual token alphabet: `[A-Za-z0-9_-]`.
    static func isToken(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x5F || c == 0x2D }
    static func isBase64(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x2B || c == 0x2F || c == 0x3D }

    static func has(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ s: StaticString) -> Bool {
        let len = s.utf8CodeUnitCount
        if i + len > b.count { return false }
        return s.withUTF8Buffer { p in
            for k in 0..<len where b[i + k] != p[k] { return false }
            return true
        }
    }

    /// How many bytes from `i` satisfy `pred` (at most `limit`).
    static func run(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, limit: Int = 4096, _ pred: (UInt8) -> Bool) -> Int {
        var k = i
        while k < b.count, k - i < limit, pred(b[k]) { k += 1 }
        return k - i
    }

    /// No token character right before `i` (the credential starts a word).
    static func boundaryBefore(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool { i == 0 || !isAlnum(b[i - 1]) }

    static func boundaryAfter(_ b: UnsafeBufferPointer<UInt8>, _ j: Int) -> Bool { j >= b.count || !isAlnum(b[j]) }

    // MARK: rules

    /// `-----BEGIN … PRIVATE KEY-----` (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK) followed by a
    /// real key body: at least 64 base64 characters with an unbroken run of 40 or more (line breaks,
    /// `\n` escapes, quotes and blanks between lines allowed), whose start decodes to a key's
    /// structure — a DER `SEQUENCE` holding a version `INTEGER` 0–3 or an encrypted key's
    /// `SEQUENCE` (PKCS#1, PKCS#8, SEC 1, DSA), or `openssh-key-v1`. Headers alone (code that
    /// formats or parses keys, prose naming the markers) and documentation bodies (`EXAMPLE…`,
    /// `...`) are not keys. Legacy encrypted PEM (`Proc-Type:` headers) and PGP armour are
    /// ciphertext or packets: their run length alone decides.
    static func privateKey(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard has(b, i, "-----BEGIN ") else { return false }
        var j = i + 11
        let start = j
        while j < b.count, j - start < 40, isUpper(b[j]) || b[j] == 0x20 { j += 1 }
        let label = Array(UnsafeBufferPointer(rebasing: b[start..<j]))
        guard has(b, j, "-----") else { return false }
        let text = String(decoding: label, as: UTF8.self)
        guard text.hasSuffix("PRIVATE KEY") || text.hasSuffix("PRIVATE KEY BLOCK") else { return false }
        j += 5
        var body: [UInt8] = []
        var runLength = 0
        var longest = 0
        var headers = false
        var k = j
        while k < b.count, k - j < 16384, !has(b, k, "-----END") {
            let c = b[k]
            if isBase64(c) {
                body.append(c)
                runLength += 1
                longest = max(longest, runLength)
            } else if c == 0x5C, k + 1 < b.count, b[k + 1] == UInt8(ascii: "n") {
                k += 1
                runLength = 0
            } else if c == 0x0A || c == 0x0D || c == 0x20 || c == 0x22 || c == 0x27 || c == 0x09 {
                runLength = 0
            } else if c == 0x3A {
                // `Proc-Type: 4,ENCRYPTED` / `DEK-Info:` / `Version:` header lines: not body.
                headers = true
                body.removeAll()
                runLength = 0
                while k + 1 < b.count, b[k + 1] != 0x0A, b[k + 1] != 0x5C { k += 1 }
            } else {
                break
            }
            k += 1
        }
        guard longest >= 40, body.count >= 64 else { return false }
        if headers || text.contains("PGP") { return true }
        let head = base64URLDecode(body.prefix(32))
        if text.hasPrefix("OPENSSH") { return head.starts(with: Array("openssh-key-v1".utf8)) }
        return derKeyStart(head)
    }

    /// A DER `SEQUENCE` whose first element is a small version `INTEGER` (unencrypted keys) or a
    /// `SEQUENCE` (an encrypted PKCS#8 key's algorithm).
    static func derKeyStart(_ d: [UInt8]) -> Bool {
        guard d.count >= 5, d[0] == 0x30 else { return false }
        var k = 2
        if d[1] >= 0x81 && d[1] <= 0x83 {
            k += Int(d[1] - 0x80)
        } else if d[1] >= 0x80 {
            return false
        }
        guard k + 2 < d.count else { return false }
        if d[k] == 0x30 { return true }
        return d[k] == 0x02 && d[k + 1] == 0x01 && d[k + 2] <= 0x03
    }

    static func startingWithA(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> SecretRule? {
        guard boundaryBefore(b, i) else { return nil }
        // AWS: AKIA/ASIA/ABIA/ACCA + 16 base32 upper characters, not the docs' `…EXAMPLE…`.
        if has(b, i, "AKIA") || has(b, i, "ASIA") || has(b, i, "ABIA") || has(b, i, "ACCA") {
            let len = run(b, i + 4, limit: 17) { isUpper($0) || ($0 >= 0x32 && $0 <= 0x37) }
            if len == 16, boundaryAfter(b, i + 20) {
                // Documentation's ids say EXAMPLE anywhere (`AKIAIOSFODNN7EXAMPLE`, `AKIAEXAMPLE…`).
                let id = String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + 20)]), as: UTF8.self)
                if !id.contains("EXAMPLE") { return .awsAccessKey }
            }
        }
        // Google API key: AIza + 35 of [A-Za-z0-9_-].
        if has(b, i, "AIza") {
            let len = run(b, i + 4, limit: 36, isToken)
            if len == 35 { return .gcpAPIKey }
        }
        return nil
    }

    static func startingWithG(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> SecretRule? {
        guard boundaryBefore(b, i) else { return nil }
        if has(b, i, "gh"), i + 4 <= b.count, "pousr".utf8.contains(b[i + 2]), b[i + 3] == 0x5F {
            let len = run(b, i + 4, limit: 256, isAlnum)
            if len >= 36, len <= 255, mixed(b, i + 4, len) { return .githubToken }
        }
        if has(b, i, "github_pat_") {
            let len = run(b, i + 11, limit: 256) { isAlnum($0) || $0 == 0x5F }
            if len >= 82 { return .githubToken }
        }
        if has(b, i, "glpat-") || has(b, i, "gldt-") || has(b, i, "glrt-") {
            let p = b[i + 2] == UInt8(ascii: "p") ? 6 : 5
            let len = run(b, i + p, limit: 64, isToken)
            if len >= 20, mixed(b, i + p, len) { return .gitlabToken }
        }
        return nil
    }

    /// `xox[abposr]-<10–13 digits>-…`: Slack bot, user, app and legacy tokens.
    static func slackToken(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard boundaryBefore(b, i), has(b, i, "xox"), i + 5 < b.count, "abposre".utf8.contains(b[i + 3]),
              b[i + 4] == 0x2D else { return false }
        let digits = run(b, i + 5, limit: 14, isDigit)
        guard (10...13).contains(digits), i + 5 + digits < b.count, b[i + 5 + digits] == 0x2D else { return false }
        return run(b, i + 6 + digits, limit: 128, isToken) >= 8
    }

    static func startingWithH(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> SecretRule? {
        if has(b, i, "hooks.slack.com/services/T") {
            var j = i + 25
            let t = run(b, j, limit: 16) { isUpper($0) || isDigit($0) }
            j += t
            guard t >= 8, has(b, j, "/B") else { return nil }
            j += 1
            let bb = run(b, j, limit: 16) { isUpper($0) || isDigit($0) }
            j += bb
            guard bb >= 8, j < b.count, b[j] == 0x2F else { return nil }
            if run(b, j + 1, limit: 64, isAlnum) >= 24 { return .slackWebhook }
        }
        // Hugging Face: hf_ + 34 letters.
        if boundaryBefore(b, i), has(b, i, "hf_") {
            let len = run(b, i + 3, limit: 35) { isUpper($0) || isLower($0) }
            if len == 34, boundaryAfter(b, i + 37), mixedCase(b, i + 3, len) { return .huggingFaceToken }
        }
        return nil
    }

    static func startingWithS(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> SecretRule? {
        guard boundaryBefore(b, i) else { return nil }
        if has(b, i, "sk-ant-") {
            if run(b, i + 7, limit: 128, isToken) >= 80 { return .anthropicKey }
        }
        if has(b, i, "sk-") {
            // OpenAI keys carry `T3BlbkFJ` ("OpenAI" in base64) in the middle.
            let len = run(b, i + 3, limit: 256, isToken)
            if len >= 40 {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 3)..<(i + 3 + len)]), as: UTF8.self)
                if s.contains("T3BlbkFJ") { return .openAIKey }
            }
        }
        for p: StaticString in ["sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"]
        where has(b, i, p) {
            let len = run(b, i + 8, limit: 128, isAlnum)
            if len >= 16, mixed(b, i + 8, len) { return .stripeKey }
        }
        return nil
    }

    /// `eyJ…` `.eyJ…` `.sig`: a JWT (header and payload are base64url JSON objects) whose
    /// payload has an `exp`, `iss` or `aud` claim, as issued tokens do (documentation's
    /// `{"some": "payload"}` examples have none).
    static func jwt(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard boundaryBefore(b, i), has(b, i, "eyJ") else { return false }
        let h = run(b, i, limit: 2048, isToken)
        guard h >= 15, i + h < b.count, b[i + h] == 0x2E else { return false }
        let p0 = i + h + 1
        guard has(b, p0, "eyJ") else { return false }
        let p = run(b, p0, limit: 8192, isToken)
        guard p >= 15, p0 + p < b.count, b[p0 + p] == 0x2E else { return false }
        guard run(b, p0 + p + 1, limit: 1024, isToken) >= 16 else { return false }
        let payload = String(decoding: base64URLDecode(UnsafeBufferPointer(rebasing: b[p0..<(p0 + p)])), as: UTF8.self)
        return ["\"exp\"", "\"iss\"", "\"aud\""].contains { payload.contains($0) }
    }

    static func base64URLDecode<S: Sequence>(_ s: S) -> [UInt8] where S.Element == UInt8 {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in s {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2D, 0x2B: v = 62
            case 0x5F, 0x2F: v = 63
            default: continue
            }
            acc = (acc << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    /// `"private_key_id": "<40 hex>"` of a service-account JSON (its `private_key` is a PEM too).
    static func gcpServiceAccount(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard has(b, i, "private_key_id") else { return false }
        var j = i + 14
        let skip: (UInt8) -> Bool = { $0 == 0x22 || $0 == 0x27 || $0 == 0x20 || $0 == 0x3A || $0 == 0x3D }
        j += run(b, j, limit: 8, skip)
        let hex = run(b, j, limit: 41) { isDigit($0) || ($0 >= 0x61 && $0 <= 0x66) }
        return hex == 40
    }

    /// At least one letter and one digit in `b[i..<i+len]` (a random token, not a word).
    static func mixed(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ len: Int) -> Bool {
        var letter = false, digit = false
        for k in i..<(i + len) {
            if isDigit(b[k]) { digit = true } else if isUpper(b[k]) || isLower(b[k]) { letter = true }
        }
        return letter && digit
    }

    static func mixedCase(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ len: Int) -> Bool {
        var upper = false, lower = false
        for k in i..<(i + len) {
            if isUpper(b[k]) { upper = true } else if isLower(b[k]) { lower = true }
        }
        return upper && lower
    }
}

import DriftSystem

/// `name = "<high-entropy string>"` (also `name: value`, `"name": "value"`, `name := "value"`,
/// `name="value"` as a keyword argument) where the name says secret: its last word is `key`,
/// `apikey`, `pass`, `pwd`, `auth`, or ends in `token`, `secret`, `password`, `passwd`,
/// `credential(s)` (`snake_case`, `kebab-case`, `dotted.names` and `camelCase` split into
/// words; `page_token`, `next_token`, `continuation_token`, `request_token`… are not secrets,
/// nor a protocol's nonce such as `Sec-WebSocket-Key`). It does not fire in test fixtures
/// (`SecretScope`).
///
/// The value must look random: 20–256 characters of `[A-Za-z0-9+/=_-]`, at least two digits
/// and one letter, at least three changes between digit and letter (`Ed25519PrivateKey` has
/// two: a type name, not a key), Shannon entropy ≥ 3.5 bits per character, not a UUID or a
/// dash-grouped id, no placeholder word (`example`, `xxxx`, `your_`, `dummy`, `changeme`,
/// `placeholder`), and not one of the published example values (`publicExamples`). A bare
/// (unquoted) value after `word name:` is prose (`Next page token: …`), not an assignment.
/// Measured on the Python standard library and a large site-packages: docs/secrets.md.
enum SecretAssignment {
    static let minLength = 20
    static let maxLength = 256
    static let minEntropy = 3.5

    /// Whether the operator at `i` (`=` or `:`) assigns a secret-looking value to a secret name.
    static func at(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let op = b[i]
        var after = i + 1
        if op == 0x3D {
            // `==`, `!=`, `<=`, `>=` compare; `=>` maps (kept: PHP/Ruby hashes assign).
            if after < b.count, b[after] == 0x3D { return false }
            if i > 0, [0x3D, 0x21, 0x3C, 0x3E].contains(b[i - 1]) { return false }
        } else {
            if after < b.count, b[after] == 0x3A { return false }
            if i > 0, b[i - 1] == 0x3A { return false }
            if after < b.count, b[after] == 0x3D { after += 1 }
            // `http://…`: a scheme, not a key.
            if after < b.count, b[after] == 0x2F { return false }
        }
        guard let name = nameBefore(b, i), isSecretName(name, lastWordOnly: true) else { return false }
        guard let (value, quoted) = valueAfter(b, after) else { return false }
        if !quoted, op == 0x3A, isProse(b, i, nameLength: name.count) { return false }
        return looksRandom(value, bareName: isBareName(name))
    }

    /// The identifier left of the operator: blanks, one closing quote or `"]`, then `[A-Za-z0-9_.-]`.
    static func nameBefore(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> [UInt8]? {
        var j = i - 1
        while j >= 0, b[j] == 0x20 || b[j] == 0x09 { j -= 1 }
        if j >= 0, b[j] == 0x5D { j -= 1 }
        if j >= 0, b[j] == 0x22 || b[j] == 0x27 { j -= 1 }
        let end = j
        while j >= 0, end - j < 64, SecretFormats.isAlnum(b[j]) || b[j] == 0x5F || b[j] == 0x2E || b[j] == 0x2D {
            j -= 1
        }
        if j == end { return nil }
        return Array(UnsafeBufferPointer(rebasing: b[(j + 1)...end]))
    }

    /// The value right of the operator: a quoted string on one line, or a bare run ended by a
    /// blank, line end, `,` or `;`.
    static func valueAfter(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> (value: [UInt8], quoted: Bool)? {
        var j = start
        while j < b.count, j - start < 6, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        if j + 1 < b.count, "brfuBRFU".utf8.contains(b[j]), b[j + 1] == 0x22 || b[j + 1] == 0x27 { j += 1 }
        guard j < b.count else { return nil }
        let q = b[j]
        if q == 0x22 || q == 0x27 || q == 0x60 {
            let s = j + 1
            var k = s
            while k < b.count, k - s <= maxLength, b[k] != q, b[k] != 0x0A { k += 1 }
            guard k < b.count, b[k] == q else { return nil }
            return (Array(UnsafeBufferPointer(rebasing: b[s..<k])), true)
        }
        let s = j
        var k = s
        while k < b.count, k - s <= maxLength, valueChar(b[k]) { k += 1 }
        if k < b.count, ![0x20, 0x09, 0x0A, 0x0D, 0x2C, 0x3B].contains(b[k]) { return nil }
        return (Array(UnsafeBufferPointer(rebasing: b[s..<k])), false)
    }

    /// `… page token: value`: the name is the last word of a sentence (a word and a blank before it).
    static func isProse(_ b: UnsafeBufferPointer<UInt8>, _ op: Int, nameLength: Int) -> Bool {
        var j = op - 1
        while j >= 0, b[j] == 0x20 || b[j] == 0x09 { j -= 1 }
        j -= nameLength
        guard j >= 1, b[j] == 0x20 else { return false }
        return SecretFormats.isAlnum(b[j - 1])
    }

    static func valueChar(_ c: UInt8) -> Bool { SecretFormats.isBase64(c) || c == 0x5F || c == 0x2D }

    static func isSecretName(_ name: [UInt8], lastWordOnly: Bool = false) -> Bool {
        // Words: split at `_`, `-`, `.` and before an upper-case letter that follows a lower-case one.
        var words: [String] = []
        var cur: [UInt8] = []
        for (k, c) in name.enumerated() {
            let split = c == 0x5F || c == 0x2D || c == 0x2E
            if split {
                if !cur.isEmpty { words.append(String(decoding: cur, as: UTF8.self).lowercased()) }
                cur = []
                continue
            }
            if SecretFormats.isUpper(c), k > 0, SecretFormats.isLower(name[k - 1]), !cur.isEmpty {
                words.append(String(decoding: cur, as: UTF8.self).lowercased())
                cur = []
            }
            cur.append(c)
        }
        if !cur.isEmpty { words.append(String(decoding: cur, as: UTF8.self).lowercased()) }
        let exact: Set<String> = ["key", "apikey", "secretkey", "accesskey", "privatekey", "pass", "pwd", "auth"]
        let suffixes = ["token", "secret", "password", "passwd", "credential", "credentials"]
        let says = { (w: String) in exact.contains(w) || suffixes.contains { w.hasSuffix($0) } }
        if lastWordOnly {
            guard let last = words.last, says(last) else { return false }
            if protocolNonces.contains(words.joined()) { return false }
            // Paging and idempotency tokens are ids the API hands out, not credentials.
            if last == "token", words.count > 1, notCredentials.contains(words[words.count - 2]) { return false }
            return true
        }
        return words.contains(where: says)
    }

    /// `key`, `pass`, `pwd`, `auth` with nothing before them (`self.key`, `"key"`, `_key` too).
    static func isBareName(_ name: [UInt8]) -> Bool {
        var n = name
        if let dot = n.lastIndex(of: 0x2E) { n = Array(n[(dot + 1)...]) }
        while n.first == 0x5F || n.first == 0x2D { n.removeFirst() }
        return ["key", "pass", "pwd", "auth"].contains(String(decoding: n, as: UTF8.self).lowercased())
    }

    static let notCredentials: Set<String> = ["page", "next", "continuation", "pagination", "request", "change",
                                              "idempotency", "sync", "action", "cancel", "cancellation", "marker",
                                              "cursor", "csrf", "type", "lifecycle"]

    /// Names a protocol gives to a value it makes random per request, not to a credential
    /// (gitleaks allow-lists such header names too): RFC 6455's `Sec-WebSocket-Key` is a
    /// nonce the server only hashes back; an `Idempotency-Key` is a request id.
    static let protocolNonces: Set<String> = ["secwebsocketkey", "idempotencykey"]

    /// Values published as examples (RFC 6749/6750 access and refresh tokens, the Azurite
    /// development storage key) that appear in library docs: random-looking, yet public.
    static let publicExamples: Set<String> = [
        "2YotnFZFEjr1zCsicMWpAA", "tGzv3JOkF0XG5Qx2TlKWIA", "SplxlOBeZQQYbYS6WxSbIA",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    ]

    /// Words a real credential does not spell out: `export-token-cu4lg26o`, `my-secret-2f9a…`
    /// are labelled placeholders.
    static let placeholders = ["example", "xxxx", "your_", "your-", "dummy", "changeme", "placeholder", "redacted",
                               "token", "secret", "password", "sample"]

    /// A name that is only `key`, `pass`, `pwd` or `auth` says little (dict keys, cache keys,
    /// protocol nonces): its value must be longer to count.
    static let bareNameMinLength = 32

    static func looksRandom(_ v: [UInt8], bareName: Bool = false) -> Bool {
        guard (minLength...maxLength).contains(v.count), v.allSatisfy(valueChar) else { return false }
        if bareName, v.count < bareNameMinLength { return false }
        let digits = v.filter(SecretFormats.isDigit).count
        let letters = v.filter { SecretFormats.isUpper($0) || SecretFormats.isLower($0) }.count
        guard digits >= 2, letters >= 1, transitions(v) >= 3 else { return false }
        let text = String(decoding: v, as: UTF8.self)
        let lower = text.lowercased()
        if placeholders.contains(where: { lower.contains($0) }) || publicExamples.contains(text) { return false }
        // UUIDs and dash-grouped ids (`29AV1-3OFV9-VVIUB-NKT0I`) are identifiers.
        if v.split(separator: 0x2D).count >= 4 { return false }
        if hasSequence(v) || decodesToText(v) { return false }
        return entropy(v) >= minEntropy
    }

    /// Five characters counting up (`12345`, `abcde`, `6789a` does not count): typed by a
    /// person writing an example (`rt_123456789012_…`, `abcd12345efgh`); a random string of
    /// 20–256 characters has one with probability below 0.1 % even in hex.
    static func hasSequence(_ v: [UInt8]) -> Bool {
        var run = 1
        for k in v.indices.dropFirst() {
            let a = v[k - 1], c = v[k]
            let sameClass = (SecretFormats.isDigit(a) && SecretFormats.isDigit(c))
                || (SecretFormats.isLower(a) && SecretFormats.isLower(c))
                || (SecretFormats.isUpper(a) && SecretFormats.isUpper(c))
            run = sameClass && c == a + 1 ? run + 1 : 1
            if run >= 5 { return true }
        }
        return false
    }

    /// Base64 (standard or URL-safe) of text: a value that decodes to printable ASCII
    /// (`eyJzZXNzaW9uX2lkIjogImRlZmF1bHQifQ` is `{"session_id": "default"}`, RFC 6455's nonce is
    /// "the sample nonce") is an encoded word or JSON document, not key material, which decodes
    /// to bytes of which about a third are printable.
    static func decodesToText(_ v: [UInt8]) -> Bool {
        let body = v.prefix { $0 != 0x3D }
        guard body.count >= 16, body.allSatisfy({ SecretFormats.isAlnum($0) || "+/-_".utf8.contains($0) }) else {
            return false
        }
        let decoded = SecretFormats.base64URLDecode(body)
        guard decoded.count >= 12 else { return false }
        let printable = decoded.filter { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x09 }.count
        return printable == decoded.count
    }

    /// How often the value switches between a digit and a letter.
    static func transitions(_ v: [UInt8]) -> Int {
        var n = 0
        var last: Bool?
        for c in v {
            let digit = SecretFormats.isDigit(c)
            guard digit || SecretFormats.isUpper(c) || SecretFormats.isLower(c) else { continue }
            if let l = last, l != digit { n += 1 }
            last = digit
        }
        return n
    }

    static func entropy(_ v: [UInt8]) -> Double { shannonEntropy(v) }
}

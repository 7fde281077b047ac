import DriftSystem

/// Environment variables that may hold secrets, as the CLI read them (drift's own environment,
/// the container's main process, supervisord programs). Held in memory only: nothing here is
/// written anywhere. `SecretIndex` keeps the values whose names match the policy's
/// `secret_names` and that are not trivially short or common (`SecretValueFilter`).
public struct SecretEnvironment: Sendable {
    /// Where a variable was found (for counts in messages; never its value).
    public enum Origin: String, Sendable, Hashable {
        /// drift's own process environment.
        case drift
        /// The container's main process (`/proc/1/environ`): Docker/Vast.ai `-e` variables.
        case mainProcess = "main process"
        /// A supervisord program's `environment=` line.
        case supervisord
    }

    public struct Variable: Sendable, Hashable {
        public var name: [UInt8]
        public var value: [UInt8]
        public var origin: Origin

        public init(name: [UInt8], value: [UInt8], origin: Origin) {
            self.name = name
            self.value = value
            self.origin = origin
        }
    }

    public var variables: [Variable] = []
    /// Where the main process's variables were read from (`/proc/1/environ`): the path a
    /// missing source's issue names.
    public var mainProcessEnviron: [UInt8] = Array("/proc/1/environ".utf8)

    public init(variables: [Variable] = []) { self.variables = variables }

    /// Adds the `NAME=VALUE\0` records of an environ file (`/proc/PID/environ`).
    public mutating func addEnviron(_ bytes: [UInt8], origin: Origin) {
        for rec in bytes.split(separator: 0) {
            guard let eq = rec.firstIndex(of: UInt8(ascii: "=")), eq > rec.startIndex else { continue }
            variables.append(Variable(name: Array(rec[rec.startIndex..<eq]), value: Array(rec[(eq + 1)...]),
                                      origin: origin))
        }
    }

    /// Adds the variables of every `environment=` line of a supervisord configuration file
    /// (`KEY="value",KEY2=value2`, with `%%` for `%` and continuation lines indented, as
    /// supervisord's ini reader takes them).
    public mutating func addSupervisordConfig(_ bytes: [UInt8]) {
        for line in Self.iniValues(bytes, key: "environment") {
            for (k, v) in Self.supervisordPairs(line) {
                variables.append(Variable(name: k, value: v, origin: .supervisord))
            }
        }
    }

    /// Values of `key=`/`key:` lines (any section), continuation lines joined with a newline.
    static func iniValues(_ bytes: [UInt8], key: String) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8]?
        let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = Array(raw)
            if let c = current, let f = line.first, blank.contains(f), line.contains(where: { !blank.contains($0) }) {
                current = c + [0x0A] + Array(line.drop { blank.contains($0) })
                continue
            }
            if let c = current { out.append(c) }
            current = nil
            let t = Array(line.drop { blank.contains($0) })
            guard let sep = t.firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ":") }) else {
                continue
            }
            var name = Array(t[..<sep])
            while let l = name.last, blank.contains(l) { name.removeLast() }
            guard String(decoding: name, as: UTF8.self).lowercased() == key else { continue }
            var value = Array(t[(sep + 1)...].drop { blank.contains($0) })
            while let l = value.last, blank.contains(l) { value.removeLast() }
            current = value
        }
        if let c = current { out.append(c) }
        return out
    }

    /// supervisord's `environment` syntax: comma-separated `KEY=value`, values optionally in
    /// single or double quotes (commas inside quotes kept), `%%` is a literal `%`.
    static func supervisordPairs(_ line: [UInt8]) -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        var i = 0
        let n = line.count
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        while i < n {
            while i < n, blank.contains(line[i]) || line[i] == UInt8(ascii: ",") { i += 1 }
            let keyStart = i
            while i < n, line[i] != UInt8(ascii: "="), line[i] != UInt8(ascii: ",") { i += 1 }
            guard i < n, line[i] == UInt8(ascii: "=") else { break }
            var key = Array(line[keyStart..<i])
            while let l = key.last, blank.contains(l) { key.removeLast() }
            i += 1
            while i < n, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
            var value: [UInt8] = []
            if i < n, line[i] == 0x22 || line[i] == 0x27 {
                let q = line[i]
                i += 1
                while i < n, line[i] != q {
                    value.append(line[i])
                    i += 1
                }
                i += 1
            } else {
                while i < n, line[i] != UInt8(ascii: ",") {
                    value.append(line[i])
                    i += 1
                }
                while let l = value.last, blank.contains(l) { value.removeLast() }
            }
            if !key.isEmpty { out.append((key, Self.unpercent(value))) }
        }
        return out
    }

    static func unpercent(_ v: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < v.count {
            if v[i] == UInt8(ascii: "%"), i + 1 < v.count, v[i + 1] == UInt8(ascii: "%") {
                out.append(v[i])
                i += 2
                continue
            }
            out.append(v[i])
            i += 1
        }
        return out
    }

    /// The values of variables whose names match `names` (case-insensitive), worth matching;
    /// and, whatever the name, the password of a URL that carries one
    /// (`DATABASE_URL=postgres://app:PASS@db/app`, `CELERY_BROKER_URL=amqp://u:PASS@mq//`: the
    /// usual way a database or broker password arrives, under a name that says only URL).
    /// `secret_names: []` turns both off.
    func secretValues(names: PatternList) -> [[UInt8]] {
        namedSecretValues(names: names).map(\.value)
    }

    /// `secretValues` with the name of the variable each came from (for messages only).
    func namedSecretValues(names: PatternList) -> [(name: [UInt8], value: [UInt8])] {
        var out: [(name: [UInt8], value: [UInt8])] = []
        for v in variables {
            if Self.isSecretName(v.name, names) {
                out += SecretValueFilter.expand(v.value, pathsAreNames: true).map { (v.name, $0) }
            } else if let pw = Self.urlPassword(v, names) {
                out.append((v.name, pw))
            }
        }
        return out
    }

    /// The names of the variables from `origin` that are secret sources (a secret name, or a
    /// URL with a password): what a later run must still be able to read (`SecretSourceMemory`).
    func sourceNames(from origin: Origin, names: PatternList) -> Set<[UInt8]> {
        Set(variables.lazy.filter { $0.origin == origin }
            .filter { Self.isSecretName($0.name, names) || Self.urlPassword($0, names) != nil }.map(\.name))
    }

    /// The names of the secret-source variables of every origin.
    func sourceNames(names: PatternList) -> Set<[UInt8]> {
        Set(variables.lazy.filter { Self.isSecretName($0.name, names) || Self.urlPassword($0, names) != nil }
            .map(\.name))
    }

    /// How many variables are secret sources: a secret name, or a URL with a password.
    func secretNamedCount(names: PatternList) -> Int {
        variables.filter { Self.isSecretName($0.name, names) || Self.urlPassword($0, names) != nil }.count
    }

    /// The password of a variable whose value is a URL carrying one (worth matching).
    static func urlPassword(_ v: Variable, _ names: PatternList) -> [UInt8]? {
        guard !names.isEmpty, let pw = SecretValueFilter.urlPassword(v.value),
              SecretValueFilter.worthMatching(pw) else { return nil }
        return pw
    }

    static func isSecretName(_ name: [UInt8], _ names: PatternList) -> Bool {
        if name.isEmpty || name.contains(UInt8(ascii: "/")) { return false }
        let upper = name.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }
        return names.matchesSelf(upper, isDirectory: false)
    }
}

/// Which values are worth matching: a value must be at least `minimumBytes` long, not a
/// common word or placeholder, not one repeated character, and not a file's absolute path
/// (`DRIFT_GIT_SSH_KEY=/etc/drift/push_key` names a key file; list the file under `secrets`).
/// So `FOO_KEY=1` or `DEBUG_PASSWORD=changeme` do not withhold every file that says `1`.
enum SecretValueFilter {
    static let minimumBytes = 8

    /// Words that are placeholders or settings rather than secrets (compared lowercased).
    static let common: Set<String> = [
        "changeme", "change-me", "change_me", "password", "passw0rd", "password1", "secret", "secretkey",
        "localhost", "127.0.0.1", "0.0.0.0", "example", "disabled", "enabled", "undefined", "required",
        "optional", "postgres", "postgresql", "development", "production", "staging", "placeholder",
        "your-api-key", "your_api_key", "your-token", "your_token", "xxxxxxxx", "12345678", "123456789",
        "1234567890", "notasecret", "not-a-secret", "insecure", "default", "none", "null", "true", "false",
    ]

    /// `pathsAreNames`: an environment variable's absolute path names a file (a secret file's
    /// own base64 line may start with `/` too: there it is a value).
    static func worthMatching(_ v: [UInt8], pathsAreNames: Bool = false) -> Bool {
        if v.count < minimumBytes { return false }
        if Set(v).count < 4 { return false }
        let lower = String(decoding: v, as: UTF8.self).lowercased()
        if common.contains(lower) { return false }
        if pathsAreNames, v.first == UInt8(ascii: "/"), v.dropFirst().contains(UInt8(ascii: "/")),
           !v.contains(where: { $0 == 0x20 || $0 == 0x0A || $0 == 0x3A || $0 == 0x2B || $0 == 0x3D }) {
            return false
        }
        return true
    }

    /// A value as the strings to look for: itself, each line of a multi-line value (a PEM
    /// body pasted line by line), and the password of a URL (`postgres://u:PASS@host/db`).
    static func expand(_ v: [UInt8], pathsAreNames: Bool = false) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var t = v
        while let l = t.last, l == 0x0A || l == 0x0D || l == 0x20 || l == 0x09 { t.removeLast() }
        if worthMatching(t, pathsAreNames: pathsAreNames) { out.append(t) }
        if t.contains(0x0A) {
            for line in t.split(separator: 0x0A) {
                var s = Array(line.drop { $0 == 0x20 || $0 == 0x09 })
                while let l = s.last, l == 0x0D || l == 0x20 || l == 0x09 { s.removeLast() }
                if s.starts(with: Array("-----".utf8)) { continue }
                if worthMatching(s) { out.append(s) }
            }
        }
        if let pw = urlPassword(t), worthMatching(pw) { out.append(pw) }
        return out
    }

    /// `scheme://user:password@host…` → `password`.
    static func urlPassword(_ v: [UInt8]) -> [UInt8]? {
        let sep = Array("://".utf8)
        guard let s = firstIndex(of: sep, in: v) else { return nil }
        let rest = v[(s + 3)...]
        let authorityEnd = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") })
            ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: UInt8(ascii: "@")),
              let colon = authority[..<at].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Array(authority[(colon + 1)..<at])
    }

    static func firstIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        if needle.isEmpty || hay.count < needle.count { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

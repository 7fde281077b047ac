import DriftSystem

/// The secret values `drift forget` purged, a run learned after content was journaled, or a run
/// found in drifted content (`forgotten_sources` in `state.json`), remembered as salted digests
/// so a later run that does not know one withholds drifted content instead of journaling it
/// again (docs/secrets.md, "Forgotten sources remembered").
///
/// A value, not a name: the same variable empty or rotated, a `.env.local` moved away, the
/// container's main process holding the same name with another value all leave the value
/// unknown. Each digest is `SHA-256(salt || value)` with a random 32-byte salt kept here, so the
/// file is no guess oracle for a value's plain hash; it is never journaled, exported or printed
/// (state.json is root-only, on the instance that holds the value anyway). Kept until
/// `drift forget --release NAME` or a redeploy (a state is per manifest commit); a reboot does
/// not clear it.
struct ForgottenValues: Codable, Equatable, Sendable {
    struct Entry: Codable, Equatable, Sendable {
        /// The source that held the value (a variable's name or a secret file's path, escaped
        /// by `PathBytes.escape`): for messages and `--release` only.
        var name: String
        /// `SHA-256(salt || value)`.
        var digest: Digest
        /// How to find the value in content once it is released (`ValueTraces`); absent in
        /// entries an older drift wrote until a run that knows the value again adds them.
        var traces: [ValueTrace]?
    }

    /// Names written by a drift that kept names only, and the boot they were read in: checked
    /// as then (a run without the name withholds, for that boot).
    var boot: String?
    var names: [String]?
    /// 64 lowercase hex digits: the salt of every digest in `values`.
    var salt: String?
    var values: [Entry]?
    /// When a run first learned secret values after content was journaled, since the last
    /// `drift forget` that knew every remembered value: the journal may hold one (`drift status`
    /// says so until such a forget runs; incident 11, F8).
    var learned: String?
    /// Values `drift forget --release` let go of, with their traces: no longer withholding
    /// everything while unknown, but content that holds one stays withheld (`ReleasedSearch`;
    /// incident 12, F12). Kept until a redeploy, like the rest.
    var released: [Entry]?

    /// The names whose values this run does not know: a value entry none of `known` has (by
    /// digest, whatever the name it has now), or an old name-only entry of this boot that no
    /// variable of this run has (`names`).
    /// - Throws: `DriftError` when no SHA-256 context can be made.
    static func missing(_ memory: ForgottenValues?, known: [[UInt8]], names: Set<[UInt8]>, boot: String?) throws
        -> Set<[UInt8]> {
        guard let memory else { return [] }
        var out = Set<[UInt8]>()
        if let old = memory.names, !old.isEmpty, memory.namesApply(boot: boot) {
            out.formUnion(old.compactMap { PathBytes.unescape(Array($0.utf8)) }.filter { !names.contains($0) })
        }
        guard let entries = memory.values, !entries.isEmpty else { return out }
        let salt = Self.saltBytes(memory.salt)
        let have = try Set(known.map { try Self.digest($0, salt: salt) })
        for e in entries where !have.contains(e.digest) {
            if let n = PathBytes.unescape(Array(e.name.utf8)) { out.insert(n) }
        }
        return out
    }

    /// The memory with `added` values remembered too (a new salt when there is none yet).
    /// - Throws: `DriftError` when no random salt or SHA-256 context can be had.
    static func adding(_ memory: ForgottenValues?, _ added: [(name: [UInt8], value: [UInt8])],
                       random: (Int) throws -> [UInt8] = secureRandomBytes) throws -> ForgottenValues? {
        if added.isEmpty { return memory }
        var m = memory ?? ForgottenValues()
        var salt = Self.saltBytes(m.salt)
        if salt.count != 32 {
            // Entries under a damaged salt never match again: they stay, failing closed.
            salt = try random(32)
            m.salt = hexEncode(salt)
        }
        var entries = m.values ?? []
        var at: [Digest: Int] = [:]
        for (i, e) in entries.enumerated() { at[e.digest] = i }
        for v in added {
            let d = try Self.digest(v.value, salt: salt)
            if let i = at[d] {
                if entries[i].traces == nil { entries[i].traces = try ValueTraces.of(v.value, salt: salt) }
                continue
            }
            at[d] = entries.count
            entries.append(Entry(name: PathBytes.escape(v.name), digest: d,
                                 traces: try ValueTraces.of(v.value, salt: salt)))
        }
        m.values = entries
        return m
    }

    /// The memory with traces added to the entries of `known` values an older drift remembered
    /// without them; nil when none was missing (the state is not rewritten for nothing).
    /// - Throws: `DriftError` when no SHA-256 context can be made.
    static func tracing(_ memory: ForgottenValues?, known: [(name: [UInt8], value: [UInt8])]) throws
        -> ForgottenValues? {
        guard let memory, var entries = memory.values, entries.contains(where: { $0.traces == nil }),
              memory.saltBytes.count == 32 else { return nil }
        let salt = memory.saltBytes
        var at: [Digest: Int] = [:]
        for (i, e) in entries.enumerated() where e.traces == nil { at[e.digest] = i }
        var changed = false
        // Only values already remembered: a known value is not remembered by being known.
        for v in known {
            guard let i = at[try Self.digest(v.value, salt: salt)] else { continue }
            entries[i].traces = try ValueTraces.of(v.value, salt: salt)
            changed = true
        }
        if !changed { return nil }
        var m = memory
        m.values = entries
        return m
    }

    /// Every name remembered (old name-only entries of this boot, and value entries).
    static func names(_ memory: ForgottenValues?, boot: String?) -> Set<[UInt8]> {
        guard let memory else { return [] }
        var out = Set<[UInt8]>()
        if let old = memory.names, memory.namesApply(boot: boot) {
            out.formUnion(old.compactMap { PathBytes.unescape(Array($0.utf8)) })
        }
        out.formUnion((memory.values ?? []).compactMap { PathBytes.unescape(Array($0.name.utf8)) })
        return out
    }

    /// The memory without `drop` (escaped names) among the values that withhold everything while
    /// unknown; their value entries are kept as `released`, so content holding them stays withheld.
    /// Nil when nothing is left.
    func releasing(_ drop: Set<String>) -> ForgottenValues? {
        var m = self
        m.names = names?.filter { !drop.contains($0) }
        let gone = (values ?? []).filter { drop.contains($0.name) }
        m.values = values?.filter { !drop.contains($0.name) }
        if !gone.isEmpty { m.released = (released ?? []) + gone }
        if m.names?.isEmpty == true { (m.names, m.boot) = (nil, nil) }
        if m.values?.isEmpty == true { (m.values, m.learned) = (nil, nil) }
        // The salt stays while a released value is kept: its digests are under it.
        if m.values == nil && m.released == nil { m.salt = nil }
        return m.names == nil && m.values == nil && m.released == nil ? nil : m
    }

    /// The names of the released values (`drift status`, `drift forget --release`).
    static func releasedNames(_ memory: ForgottenValues?) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return (memory?.released ?? []).compactMap { PathBytes.unescape(Array($0.name.utf8)) }
            .filter { seen.insert($0).inserted }.sorted(by: PathBytes.less)
    }

    /// Old name-only entries count in the boot they were read in; a run that cannot read its
    /// boot id counts them (fails closed).
    private func namesApply(boot: String?) -> Bool {
        let mine = self.boot ?? ""
        return mine == (boot ?? mine)
    }

    /// The salt's 32 bytes (64 hex digits, the shape of a digest); none when absent or damaged,
    /// so no stored digest matches and the run fails closed.
    var saltBytes: [UInt8] { Self.saltBytes(salt) }

    private static func saltBytes(_ text: String?) -> [UInt8] {
        text.flatMap { Digest(hex: $0) }?.bytes ?? []
    }

    static func digest(_ value: [UInt8], salt: [UInt8]) throws -> Digest {
        try SHA256Hasher.digest(salt + value)
    }
}

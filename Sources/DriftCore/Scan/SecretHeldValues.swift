import DriftSystem

/// Which secret values drifted content holds: a value pasted into code is remembered
/// (`ForgottenValues`) by the run that first sees it there, not only when a run learns values
/// after content was journaled, so once it is rotated it is unknown and everything is withheld
/// (F9/F11) instead of the old value shipping, and after `drift forget --release` the released
/// search keeps the pasted file withheld (F12; incident 12 attack, finding #1).
///
/// Asked only of bytes the live value search hit (few files), so each value's own search (the
/// value and its encodings, as `SecretIndex.init` builds them) is built then, once a run.
struct SecretHeldValues {
    private let sources: [(name: [UInt8], value: [UInt8])]
    private let skipped: Set<[UInt8]>
    private var searches: [NeedleSet?]
    private var held = Set<Int>()

    /// `sources`: the index's distinct source values; `skipped`: values not remembered (baked).
    init(_ sources: [(name: [UInt8], value: [UInt8])], skipping skipped: Set<[UInt8]>) {
        self.sources = sources
        self.skipped = skipped
        searches = Array(repeating: nil, count: sources.count)
    }

    /// Notes the source values `bytes` hold in any searched form.
    mutating func note(_ bytes: [UInt8]) {
        for i in sources.indices where !held.contains(i) && !skipped.contains(sources[i].value) {
            let search = searches[i] ?? NeedleSet(SecretIndex.forms(sources[i].value))
            searches[i] = search
            if search.isFound(in: bytes) { held.insert(i) }
        }
    }

    /// Notes the source value at `index` (content that is the value, known by its hash).
    mutating func note(index: Int) {
        if sources.indices.contains(index) && !skipped.contains(sources[index].value) { held.insert(index) }
    }

    /// The values noted, in source order.
    var values: [(name: [UInt8], value: [UInt8])] { held.sorted().map { sources[$0] } }
}

import DriftSystem
import Synchronization

/// Secret-content verdicts by content SHA-256, kept by a long-running recorder (`drift
/// watch`): a drifted file whose content did not change since the last batch is not opened
/// and searched again (with 200,000 drifted small data files that was 15 % of a batch).
///
/// A verdict is what `SecretIndex.matches` said of bytes that hash to its digest in a path's
/// `SecretScope`, so it is a function of digest, scope and index alone: used only while the secret index it was made
/// with is unchanged, and remembered only when the bytes read hash to the scan's digest (a
/// file rewritten between hash and read is searched again next time). Inode checks (hard
/// links to a secret) are not cached. Verdicts no batch used are dropped after it.
public final class SecretVerdicts: Sendable {
    private struct Key: Hashable {
        var digest: Digest
        var scope: SecretScope
    }

    private struct State {
        var verdicts: [Key: Bool] = [:]
        var used: [Key: Bool] = [:]
        var secrets = SecretIndex()
        /// The generation of the drifted list the last flag judged whole or through a splice
        /// (`ChangeSplice`), nil when it did not finish or judged another index.
        var generation: UInt64?
        var keepAll = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Starts one batch: verdicts made against another secret index are forgotten.
    /// - Returns: the generation of the list the last batch judged with this very index (nil: none).
    @discardableResult
    func begin(_ secrets: SecretIndex) -> UInt64? {
        state.withLock { st in
            if st.secrets != secrets {
                st.verdicts.removeAll()
                st.secrets = secrets
                st.generation = nil
            }
            st.used.removeAll()
            st.keepAll = false
            let g = st.generation
            st.generation = nil
            return g
        }
    }

    /// The batch judged only a splice's hunks: the verdicts of the paths it left are kept too.
    func keepingAll() {
        state.withLock { $0.keepAll = true }
    }

    /// The batch judged the list of `generation` to the end.
    func finished(_ generation: UInt64?) {
        state.withLock { $0.generation = generation }
    }

    func verdict(_ digest: Digest, _ scope: SecretScope) -> Bool? {
        let k = Key(digest: digest, scope: scope)
        return state.withLock { st in
            guard let v = st.verdicts[k] ?? st.used[k] else { return nil }
            st.used[k] = v
            return v
        }
    }

    func remember(_ digest: Digest, _ scope: SecretScope, _ verdict: Bool) {
        state.withLock { $0.used[Key(digest: digest, scope: scope)] = verdict }
    }

    /// Ends the batch: only what it used is kept (memory follows the drift, not history).
    func end() {
        state.withLock { st in
            if st.keepAll {
                st.verdicts.merge(st.used) { _, new in new }
            } else {
                st.verdicts = st.used
            }
            st.used.removeAll()
        }
    }

    var count: Int { state.withLock { $0.verdicts.count } }
}

import DriftSystem

/// The secret-named variables of the container's main process that a state directory's runs
/// have read (names only, never values), so a run that cannot read them — from the host,
/// outside the container's PID namespace, where `/proc/1` is another process, or without
/// root — withholds drifted content instead of journaling it unchecked against them.
///
/// A container's main process keeps its environment for its whole life, so a name seen once
/// and missing now means the run is not where the secret is. The memory is kept per boot
/// (`SystemInfo.bootID`: a machine rebooted or rented anew starts a new list) and per
/// manifest (a state is per manifest commit), so a redeploy with other variables starts empty.
struct SecretSourceMemory: Codable, Equatable, Sendable {
    /// The boot the names were read in.
    var boot: String
    /// The variables' names, escaped (`PathBytes.escape`) and sorted.
    var names: [String]

    /// The names remembered for `boot` (none for another boot or no memory). A boot id that
    /// cannot be read now keeps every name: the check fails closed, not open.
    static func remembered(_ memory: SecretSourceMemory?, boot: String?) -> Set<[UInt8]> {
        guard let memory, memory.boot == boot ?? memory.boot else { return [] }
        return Set(memory.names.compactMap { PathBytes.unescape(Array($0.utf8)) })
    }

    /// The memory after a run that read `current`: what was remembered for this boot and
    /// what is there now (nil: nothing to remember, or no boot id to key it by).
    static func updated(_ memory: SecretSourceMemory?, boot: String?, current: Set<[UInt8]>) -> SecretSourceMemory? {
        guard let boot else { return memory }
        let all = remembered(memory, boot: boot).union(current)
        if all.isEmpty { return nil }
        return SecretSourceMemory(boot: boot, names: all.map(PathBytes.escape).sorted())
    }
}

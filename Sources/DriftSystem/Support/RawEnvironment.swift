#if canImport(Glibc)
import Glibc
#endif

/// The process environment as the kernel handed it over: bytes, never decoded.
/// `ProcessInfo.environment` repairs a value that is not UTF-8 (each bad byte becomes
/// U+FFFD), and a repaired path names another file: `DRIFT_STATE=st-\377` would write the
/// state into `st-\357\277\275`. Path variables are read here instead.
public enum RawEnvironment {
    /// The bytes of `$NAME` as set (nil when unset).
    public static func value(_ name: String) -> [UInt8]? {
        getenv(name).map { cStringBytes($0) }
    }
}

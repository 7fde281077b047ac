import DriftSystem

/// A path held as bytes never reaches text by interpolation (it would print `[47, 101, …]`,
/// or tempt a lossy decode): it goes through `PathBytes.display`. `"\(bytes)"` is a warning
/// in this module, and the build has none.
extension DefaultStringInterpolation {
    @available(*, deprecated, message: "a byte path reaches text only through PathBytes.display")
    mutating func appendInterpolation(_ bytes: [UInt8]) { appendInterpolation(PathBytes.display(bytes)) }
}

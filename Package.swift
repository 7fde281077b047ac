// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "drift",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "drift", targets: ["drift"]),
        .library(name: "DriftCore", targets: ["DriftCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // scripts/dist.sh defines DRIFT_GIT_COMMIT for this header with -Xcc.
        .systemLibrary(name: "CBuildInfo"),
        .target(name: "CProcessArgs"),
        .systemLibrary(name: "CSys", path: "Sources/CSys"),
        // Layers, each importing only the ones below it (scripts/check-layers.sh checks it):
        // DriftSystem → DriftGit → DriftCore → DriftCLI. See docs/architecture.md.
        .target(name: "DriftSystem", dependencies: ["CCrypto", "CSys"]),
        .target(name: "DriftGit", dependencies: ["DriftSystem", "CLibGit2"]),
        .target(
            name: "DriftCore",
            dependencies: ["DriftSystem", "DriftGit"],
            resources: [.embedInCode("Resources/default.yaml")]
        ),
        .target(
            name: "DriftCLI",
            dependencies: [
                "DriftCore",
                "DriftGit",
                "DriftSystem",
                "CBuildInfo",
                "CProcessArgs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "drift", dependencies: ["DriftCLI"]),
        // One test target per layer, so a failure names the layer; they share only helpers that
        // depend on no drift module (DriftTestSupport).
        .target(name: "DriftTestSupport", path: "Tests/DriftTestSupport"),
        .testTarget(name: "DriftSystemTests", dependencies: ["DriftSystem", "DriftTestSupport"]),
        .testTarget(name: "DriftGitTests", dependencies: ["DriftSystem", "DriftGit", "DriftTestSupport"]),
        .testTarget(name: "DriftCoreTests", dependencies: ["DriftSystem", "DriftGit", "DriftCore", "DriftTestSupport"]),
        .testTarget(
            name: "DriftCLITests",
            dependencies: [
                "DriftSystem", "DriftGit", "DriftCore", "DriftCLI", "drift", "DriftTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The binary-level suite: the built `drift` against real git, pip, servers and root file systems.
        .testTarget(
            name: "DriftBinaryTests",
            dependencies: ["DriftSystem", "DriftGit", "DriftCore", "DriftCLI", "drift", "DriftTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version:6.0
import PackageDescription

/// etch: an etcdctl-compatible client for etcd's HTTP/JSON gateway.
///
/// Layers depend one way: CCurl -> EtchTransport -> EtchGateway -> EtchOutput -> EtchCLI -> etch.

/// Release builds optimize most modules for size (-Osize: a smaller binary maps fewer pages at start, and every
/// command is a new process), and the two that decode and print large replies for speed (-O: the decode path of a
/// 24 MB watch catch-up runs 15% fewer instructions than at -Osize, while a one-key get runs as many and the
/// binary grows by 2%).
let size: [SwiftSetting] = [.unsafeFlags(["-Osize"], .when(configuration: .release))]
let speed: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .release))]

let package = Package(
    name: "etch",
    products: [
        .executable(name: "etch", targets: ["etch"]),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "EtchTransport", dependencies: ["CCurl"], swiftSettings: size),
        // SHA-256 with the x86 SHA extensions and base64 decoding with AVX2, for snapshot save and large values
        // (SHA256.swift and Base64.swift are the portable versions, used where the CPU lacks them).
        .target(name: "CAccel"),
        .target(name: "EtchGateway", dependencies: ["EtchTransport", "CAccel"], swiftSettings: speed),
        // etcd's bbolt database files, read and written locally: no network, no Foundation. SSE4.2 is enabled for
        // the C intrinsics only (the crc32 instruction, used after a CPUID check), not for Swift code.
        .target(name: "EtchBolt", swiftSettings: [.unsafeFlags(["-Xcc", "-msse4.2"])] + size),
        .target(name: "EtchOutput", dependencies: ["EtchGateway"], swiftSettings: speed),
        // A member's data directory offline: snapshot restore's WAL, raft snapshot, v2 store and bbolt db.
        .target(name: "EtchMember", dependencies: ["EtchGateway", "EtchOutput", "EtchBolt"], swiftSettings: size),
        .target(name: "EtchCLI", dependencies: ["EtchGateway", "EtchOutput", "EtchTransport", "EtchBolt", "EtchMember"], swiftSettings: size,
                plugins: ["BuildInfo"]),
        // Writes the git commit into the build (BuildInfo.gitCommit) for `etch version`.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(name: "etch", dependencies: ["EtchCLI"], swiftSettings: size),
        // Helpers the test targets share (a seeded random generator); no product uses it.
        .target(name: "EtchTestSupport", path: "Tests/EtchTestSupport"),
        .testTarget(name: "EtchCLITests", dependencies: ["EtchCLI", "EtchGateway", "EtchTestSupport"]),
        .testTarget(name: "EtchGatewayTests", dependencies: ["EtchGateway"]),
        .testTarget(name: "EtchBoltTests", dependencies: ["EtchBolt", "EtchTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EtchMemberTests", dependencies: ["EtchMember"]),
        .testTarget(
            name: "EtchOutputTests",
            dependencies: ["EtchOutput", "EtchGateway"],
            exclude: ["Fixtures"]
        ),
        // Process plumbing with pipes and callbacks: Swift 5 mode keeps the test harness simple.
        .testTarget(name: "IntegrationTests", dependencies: ["EtchGateway", "EtchTransport", "EtchTestSupport"], swiftSettings: [.swiftLanguageMode(.v5)]),
    ],
    swiftLanguageModes: [.v6]
)

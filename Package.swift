// swift-tools-version:6.0
import PackageDescription

/// etch: an etcdctl-compatible client for etcd's HTTP/JSON gateway.
///
/// Layers depend one way: CCurl -> EtchTransport -> EtchGateway -> EtchOutput -> EtchCLI -> etch.
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
        .target(name: "EtchTransport", dependencies: ["CCurl"]),
        .target(name: "EtchGateway", dependencies: ["EtchTransport"]),
        // etcd's bbolt database files, read and written locally: no network, no Foundation.
        .target(name: "EtchBolt"),
        .target(name: "EtchOutput", dependencies: ["EtchGateway"]),
        // A member's data directory offline: snapshot restore's WAL, raft snapshot, v2 store and bbolt db.
        .target(name: "EtchMember", dependencies: ["EtchGateway", "EtchOutput", "EtchBolt"]),
        .target(name: "EtchCLI", dependencies: ["EtchGateway", "EtchOutput", "EtchTransport", "EtchBolt", "EtchMember"], plugins: ["BuildInfo"]),
        // Writes the git commit into the build (BuildInfo.gitCommit) for `etch version`.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(name: "etch", dependencies: ["EtchCLI"]),
        .testTarget(name: "EtchCLITests", dependencies: ["EtchCLI", "EtchGateway"]),
        .testTarget(name: "EtchGatewayTests", dependencies: ["EtchGateway"]),
        .testTarget(name: "EtchBoltTests", dependencies: ["EtchBolt"], exclude: ["Fixtures"]),
        .testTarget(name: "EtchMemberTests", dependencies: ["EtchMember"]),
        .testTarget(
            name: "EtchOutputTests",
            dependencies: ["EtchOutput", "EtchGateway"],
            exclude: ["Fixtures"]
        ),
        // Process plumbing with pipes and callbacks: Swift 5 mode keeps the test harness simple.
        .testTarget(name: "IntegrationTests", dependencies: ["EtchGateway", "EtchTransport"], swiftSettings: [.swiftLanguageMode(.v5)]),
    ],
    swiftLanguageModes: [.v6]
)

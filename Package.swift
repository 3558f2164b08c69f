// swift-tools-version: 6.0
import PackageDescription

/// Release builds skip Swift's run-time exclusivity checks in our own modules: on the per-message paths they
/// cost about a tenth of the instructions (bench/RESULTS.md). Debug builds, which the tests run, keep them, so a
/// violation is still caught there.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// stompsh: the STOMP shell. See README.md and man/stompsh.1.
let package = Package(
    name: "stompsh",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "stompsh", targets: ["stompsh"]),
        .executable(name: "stompproto-bench", targets: ["stompproto-bench"]),
        .library(name: "StompProto", targets: ["StompProto"]),
        .library(name: "StompBroker", targets: ["StompBroker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // The protocol, free of I/O: frames, escaping, decoder, encoder, negotiation, session.
        .target(name: "StompProto", swiftSettings: hotPath),
        // WebSocket at the message level, for the client and the sandbox alike: what each frame means, the frames
        // to send (masked or not), the close handshake, close codes, the message size limit. No I/O, no STOMP.
        .target(
            name: "WebSocketFrames",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        // The connection: drives StompProto over TCP, TLS or WebSocket with SwiftNIO.
        .target(
            name: "StompConnection",
            dependencies: [
                "StompProto", "WebSocketFrames",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        // The in-memory sandbox broker: a pure engine on StompProto plus a small SwiftNIO server.
        .target(
            name: "StompBroker",
            dependencies: [
                "StompProto", "WebSocketFrames",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        // Typed JSON-RPC calls over STOMP, with timing and statistics.
        .target(
            name: "RPCCommands",
            dependencies: [
                "StompProto", "StompConnection",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        // The benchmarks: one engine shape (start, progress, stop, result) for send, consume, latency and RPC,
        // frames made per message through StompProto's encoder, N connections as one bench.
        .target(
            name: "StompBench",
            dependencies: [
                "StompProto", "StompConnection", "RPCCommands",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        // `stompsh probe`: a conformance report card for any STOMP broker, driven with its own raw frames.
        .target(
            name: "StompProbe",
            dependencies: [
                "StompProto", "StompConnection",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // libedit, the system line editor (Debian: libedit-dev).
        .systemLibrary(name: "CLibEdit", path: "Sources/CLibEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        // Fixed-signature wrappers around libedit's variadic C calls.
        .target(name: "CLineEditShim", dependencies: ["CLibEdit"]),
        // The shell: command table, parser, dispatcher, batch runner, output, REPL.
        .target(
            name: "StompShell",
            dependencies: [
                "StompProto", "StompConnection", "RPCCommands", "StompBench", "CLineEditShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: hotPath
        ),
        .executableTarget(
            name: "stompsh",
            dependencies: [
                "StompShell", "StompBroker", "StompProbe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "stompproto-bench", dependencies: ["StompProto"]),
        // Test support shared by the test targets: FaultyPeer (a misbehaving STOMP server on loopback), SandboxFixture,
        // StompshBinary (the built binary), StompPy (a python3 with stomp.py, else skip; fail where brokers are required).
        .target(name: "StompTestSupport", dependencies: [
            "StompProto", "StompBroker",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "Tests/StompTestSupport"),
        .testTarget(name: "StompProtoTests", dependencies: ["StompProto"]),
        .testTarget(name: "WebSocketFramesTests", dependencies: ["WebSocketFrames",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio")]),
        .testTarget(name: "StompBrokerTests", dependencies: ["StompBroker", "StompProto", "StompTestSupport"]),
        .testTarget(name: "StompConnectionTests", dependencies: ["StompConnection", "StompProto", "StompTestSupport", "StompBroker",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio")]),
        .testTarget(name: "RPCCommandsTests", dependencies: ["RPCCommands", "StompBench", "StompConnection", "StompProto", "StompBroker", "StompTestSupport"]),
        .testTarget(name: "StompShellTests", dependencies: ["StompShell", "StompBench", "StompProto", "StompBroker", "StompTestSupport"]),
        .testTarget(name: "StompProbeTests", dependencies: ["StompProbe", "StompProto", "StompConnection", "StompTestSupport",
            .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "EndToEndTests", dependencies: ["StompProto", "StompTestSupport", "StompBroker",
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")]),
    ],
    swiftLanguageModes: [.v5]
)

// swift-tools-version:6.0
// Swiftlet: a Swift-native engine and server for optimized AI models.
//
// CPU code generation: Swift's SIMD types only become AVX2/FMA instructions when the compiler is
// given a CPU target. On x86_64 every target is built with `-target-cpu haswell` (AVX2, FMA, F16C)
// and the compilation condition SWIFTLET_AVX2, which selects the intrinsic kernels. Set
// SWIFTLET_PORTABLE=1 in the environment when building to get a baseline x86-64 build instead:
// the same code minus the AVX2 kernels (the kernel table then serves the portable versions).
import PackageDescription
import Foundation

let portable = ProcessInfo.processInfo.environment["SWIFTLET_PORTABLE"] == "1"

#if arch(x86_64)
let cpuSettings: [SwiftSetting] = portable ? [] : [
    .unsafeFlags(["-target-cpu", "haswell"]),
    .define("SWIFTLET_AVX2"),
]
let cpuCSettings: [CSetting] = portable ? [] : [.unsafeFlags(["-mavx2", "-mfma", "-mf16c"])]
#else
let cpuSettings: [SwiftSetting] = []
let cpuCSettings: [CSetting] = []
#endif

/// Hot code is optimized even in debug builds: `-Onone` SIMD loops run ~100x slower.
let fast: [SwiftSetting] = cpuSettings + [
    .unsafeFlags(["-O", "-enforce-exclusivity=unchecked"], .when(configuration: .debug)),
]

let package = Package(
    name: "Swiftlet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .library(name: "SwiftletRuntime", targets: ["SwiftletRuntime"]),
        .library(name: "SwiftletServer", targets: ["SwiftletServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .target(name: "SwiftletCore", swiftSettings: fast),
        .target(name: "SwiftletKernels", dependencies: ["SwiftletCore"], swiftSettings: fast),
        .target(name: "SwiftletFormats", dependencies: ["SwiftletCore"], swiftSettings: fast),
        .target(name: "SwiftletTokenizers", dependencies: ["SwiftletCore", "SwiftletFormats"], swiftSettings: fast),
        .target(name: "SwiftletModels",
                dependencies: ["SwiftletCore", "SwiftletKernels", "SwiftletFormats"], swiftSettings: fast),
        .target(name: "SwiftletOptimize", dependencies: ["SwiftletCore"], swiftSettings: fast),
        .target(name: "SwiftletRuntime",
                dependencies: ["SwiftletCore", "SwiftletKernels", "SwiftletFormats", "SwiftletTokenizers", "SwiftletModels",
                               "SwiftletOptimize"],
                swiftSettings: fast),
        .target(name: "SwiftletServer",
                dependencies: ["SwiftletRuntime", "SwiftletOptimize",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdCore", package: "hummingbird"),
                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: cpuSettings),
        .executableTarget(name: "swiftlet",
                          dependencies: ["SwiftletRuntime", "SwiftletServer", "SwiftletOptimize",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: cpuSettings),
        .target(name: "SwiftletTestSupport", dependencies: ["SwiftletCore", "SwiftletFormats"], path: "Tests/Support",
                swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletCoreTests", dependencies: ["SwiftletCore"], swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletKernelsTests", dependencies: ["SwiftletKernels", "SwiftletFormats", "SwiftletTestSupport"],
                    exclude: ["Fixtures"], swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletFormatsTests", dependencies: ["SwiftletFormats", "SwiftletTestSupport"],
                    swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletTokenizersTests", dependencies: ["SwiftletCore", "SwiftletTokenizers", "SwiftletTestSupport"],
                    exclude: ["Fixtures"], swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletModelsTests", dependencies: ["SwiftletRuntime", "SwiftletTestSupport"],
                    exclude: ["Fixtures"], swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletOptimizeTests",
                    dependencies: ["SwiftletOptimize", "SwiftletCore", "SwiftletKernels", "SwiftletFormats", "SwiftletTestSupport"],
                    swiftSettings: cpuSettings),
        .testTarget(name: "SwiftletServerTests",
                    dependencies: ["SwiftletServer", "SwiftletTestSupport",
                                   .product(name: "HummingbirdTesting", package: "hummingbird")],
                    exclude: ["Fixtures"], swiftSettings: cpuSettings),
    ]
)

// What `swiftlet split` did: the parts written or kept, the sizes, the time.
import SwiftletFormats

/// The result of a split (ModelSplitter.run).
public struct SplitSummary: Sendable {
    /// The split folder.
    public var output: String
    public var source: String
    public var compression: SplitManifest.Compression
    /// Part files of the split (embedding, layers, head).
    public var parts: Int
    /// Parts written by this run.
    public var written: Int
    /// Parts a previous, interrupted run had finished, verified and kept.
    public var reused: Int
    /// The folder already held this complete split (verified); nothing was written.
    public var alreadyComplete: Bool
    public var tensors: Int
    /// Tensor name -> action, for tensors the compression changed.
    public var changed: [(String, String)]
    /// Bytes of the source's weights, and of the split's files (parts and metadata).
    public var inputBytes: Int
    public var outputBytes: Int
    public var seconds: Double
}

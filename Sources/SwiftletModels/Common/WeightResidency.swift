// The hook layer streaming uses: the forward pass says which weights it is about to use and when
// it is done with them, so a runtime can keep only some of them in memory.

/// A part of a decoder's weights that is made resident as a whole.
public enum WeightPart: Hashable, Sendable {
    /// One transformer block (attention, MLP and their norms).
    case layer(Int)
    /// One row range of the output projection (`outputChunks[chunk]`).
    case output(chunk: Int)
}

/// Keeps a model's weights in memory only around their use (layer streaming). `forward` calls
/// `acquire` before it reads a part and `release` after; parts the runtime keeps resident make
/// both calls no-ops. Calls come from one forward pass at a time.
public protocol WeightResidency: AnyObject {
    /// Row ranges of the output projection, each made resident on its own, in order.
    var outputChunks: [Range<Int>] { get }
    /// Blocks until `part`'s bytes are in memory. An error (a failed read, a checksum mismatch)
    /// stops the forward pass.
    func acquire(_ part: WeightPart) throws
    /// `part` is no longer needed by this forward pass.
    func release(_ part: WeightPart)
    /// The embedding rows of `tokens` were read and are no longer needed.
    func releaseEmbeddingRows(_ tokens: UnsafeBufferPointer<Int32>)
}

// The forward pass shared by every decoder-only architecture: embeddings, attention + MLP blocks
// (with the variants DecoderConfig names), final norm and the output projection.
import SwiftletCore
import SwiftletKernels

/// Which positions of a batch need next-token logits.
public enum LogitsRequest: Sendable {
    case last
    case all
}

/// A decoder-only language model: configuration plus weights. It holds no per-request state:
/// caches and scratch buffers are passed in, so many sequences can share one model.
public final class DecoderModel: @unchecked Sendable {
    public let config: DecoderConfig
    public let weights: DecoderWeights
    let ropeGlobal: Rope
    let ropeLocal: Rope
    /// Whether sliding layers have a rope of their own (Gemma 3's local base).
    let hasLocalRope: Bool
    let cacheKernels: CacheKernels
    /// The output projection as one row range (when no residency splits it).
    let wholeOutput: [Range<Int>]

    public init(config: DecoderConfig, weights: DecoderWeights) {
        self.config = config
        self.weights = weights
        ropeGlobal = Rope(dims: config.ropeDims, base: config.ropeBase, layout: config.ropeLayout, positionScale: config.ropeScale,
                          frequencies: config.ropeFrequencies)
        ropeLocal = Rope(dims: config.ropeDims, base: config.slidingRopeBase ?? config.ropeBase, layout: config.ropeLayout,
                         frequencies: config.slidingRopeFrequencies)
        hasLocalRope = config.slidingRopeBase != nil || config.slidingRopeFrequencies != nil
        cacheKernels = config.cacheType == .f16 ? .f16 : .f32
        wholeOutput = [0..<config.vocabSize]
    }

    public func makeCache(capacity: Int) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Scratch for batches of up to `maxBatch` tokens, with every activation buffer allocated now.
    public func makeScratch(maxBatch: Int, contextCapacity: Int, threads: Int, logitRows: Int = 1) -> DecoderScratch {
        let s = DecoderScratch(config: config, maxBatch: maxBatch, contextCapacity: contextCapacity,
                               threads: threads, logitRows: logitRows)
        s.plans = weights.layers.map { l in
            let attention = (qkv: [MatmulJob(linear: l.q, out: s.q), MatmulJob(linear: l.k, out: s.k), MatmulJob(linear: l.v, out: s.v)],
                             o: [MatmulJob(linear: l.o, out: s.tmp)])
            switch l.feedForward {
            case let .dense(gate, up, down):
                return LayerPlan(qkv: attention.qkv, o: attention.o,
                                 gateUp: [MatmulJob(linear: gate, out: s.gate), MatmulJob(linear: up, out: s.up)],
                                 down: [MatmulJob(linear: down, out: s.tmp)])
            case let .experts(router, experts):
                let moe = MoEPlan(router: [MatmulJob(linear: router, out: s.routerLogits)],
                                  gateUp: experts.map { [MatmulJob(linear: $0.gate, out: s.gate), MatmulJob(linear: $0.up, out: s.up)] },
                                  down: experts.map { [MatmulJob(linear: $0.down, out: s.expertOut)] })
                return LayerPlan(qkv: attention.qkv, o: attention.o, gateUp: [], down: [], moe: moe)
            }
        }
        s.outputPlan = [MatmulJob(linear: weights.output, out: s.logits)]
        for plan in s.plans + [LayerPlan(qkv: s.outputPlan, o: [], gateUp: [], down: [])] {
            let moeJobs = plan.moe.map { $0.router + $0.gateUp.flatMap { $0 } + $0.down.flatMap { $0 } } ?? []
            for job in plan.qkv + plan.o + plan.gateUp + plan.down + moeJobs { _ = s.buffer(for: job.linear.kernels.activationType) }
        }
        return s
    }

    /// Evaluates `tokens` at the positions after those already in `cache`, appends their keys and
    /// values to it, and hands the requested logit rows to `onLogits(indexInBatch, logits)`.
    /// - residency: told before and after each part of the weights is used (layer streaming).
    public func forward(_ tokens: UnsafeBufferPointer<Int32>, cache: KVCache, scratch s: DecoderScratch,
                        pool: ThreadPool, logits request: LogitsRequest, residency: WeightResidency? = nil,
                        onLogits: (Int, UnsafeBufferPointer<Float>) -> Void) throws {
        let c = config
        let n = tokens.count
        guard n > 0 else { return }
        guard n <= s.maxBatch else { throw ModelError("batch of \(n) tokens exceeds the scratch size \(s.maxBatch)") }
        guard s.threads >= pool.threadCount else { throw ModelError("scratch made for \(s.threads) threads, pool has \(pool.threadCount)") }
        let p0 = cache.count
        guard p0 + n <= cache.capacity else {
            throw ModelError("context length exceeded: \(p0 + n) positions needed, the cache holds \(cache.capacity) (model context \(c.contextLength))")
        }
        for t in tokens where t < 0 || Int(t) >= c.vocabSize {
            throw ModelError("token id \(t) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        let H = c.hiddenSize

        // Embeddings and rope tables.
        for i in 0..<n {
            weights.embedding.row(Int(tokens[i]), into: s.x + i * H)
            if let e = c.embeddingScale { Vector.scale(s.x + i * H, e, H) }
            ropeGlobal.table(position: p0 + i, into: s.ropeGlobal + i * c.ropeDims)
            if hasLocalRope { ropeLocal.table(position: p0 + i, into: s.ropeLocal + i * c.ropeDims) }
        }
        residency?.releaseEmbeddingRows(tokens)

        for l in 0..<weights.layers.count {
            let w = weights.layers[l]
            let plan = s.plans[l]
            try residency?.acquire(.layer(l))
            // Attention block.
            perToken(n, pool) { i in Vector.rmsNorm(s.x + i * H, w.attnNorm.values, s.xn + i * H, H, eps: c.normEps) }
            s.inputObserver?(.attention, l, s.xn, n, H)
            quantize(s.xn, width: H, n: n, for: plan.qkv, s, pool)
            multiply(plan.qkv, n: n, s, pool)
            let sliding = c.isSliding(l)
            let table = sliding && hasLocalRope ? s.ropeLocal : s.ropeGlobal
            let rope = sliding && hasLocalRope ? ropeLocal : ropeGlobal
            let rotates = c.usesRope(l)
            perToken(n, pool) { i in
                let q = s.q + i * c.qDim, k = s.k + i * c.kvDim, v = s.v + i * c.vDim
                if let qn = w.qNorm, let kn = w.kNorm {
                    for h in 0..<c.headCount { Vector.rmsNorm(q + h * c.headDim, qn.values, q + h * c.headDim, c.headDim, eps: c.normEps) }
                    for h in 0..<c.kvHeadCount { Vector.rmsNorm(k + h * c.headDim, kn.values, k + h * c.headDim, c.headDim, eps: c.normEps) }
                }
                if rotates {
                    let cs = table + i * c.ropeDims
                    rope.apply(q, heads: c.headCount, stride: c.headDim, table: cs)
                    rope.apply(k, heads: c.kvHeadCount, stride: c.headDim, table: cs)
                }
                cacheKernels.store(k, cache.keyRow(layer: l, position: p0 + i), c.kvDim)
                cacheKernels.store(v, cache.valueRow(layer: l, position: p0 + i), c.vDim)
            }
            attend(layer: l, n: n, p0: p0, sliding: sliding, cache, s, pool)
            let attWidth = c.headCount * c.valueDim
            s.inputObserver?(.attentionOutput, l, s.att, n, attWidth)
            quantize(s.att, width: attWidth, n: n, for: plan.o, s, pool)
            multiply(plan.o, n: n, s, pool)
            perToken(n, pool) { i in
                if let pn = w.postAttnNorm { Vector.rmsNorm(s.tmp + i * H, pn.values, s.tmp + i * H, H, eps: c.normEps) }
                Vector.add(s.x + i * H, s.tmp + i * H, H)
                Vector.rmsNorm(s.x + i * H, w.ffnNorm.values, s.xn + i * H, H, eps: c.normEps)
            }

            // MLP block.
            s.inputObserver?(.mlp, l, s.xn, n, H)
            if let moe = plan.moe {
                mixture(moe, n: n, s, pool)
            } else {
                quantize(s.xn, width: H, n: n, for: plan.gateUp, s, pool)
                multiply(plan.gateUp, n: n, s, pool)
                let F = c.ffnSize
                perToken(n, pool) { i in activate(s.gate + i * F, s.up + i * F, F) }
                s.inputObserver?(.mlpHidden, l, s.gate, n, F)
                quantize(s.gate, width: F, n: n, for: plan.down, s, pool)
                multiply(plan.down, n: n, s, pool)
            }
            perToken(n, pool) { i in
                if let pn = w.postFfnNorm { Vector.rmsNorm(s.tmp + i * H, pn.values, s.tmp + i * H, H, eps: c.normEps) }
                Vector.add(s.x + i * H, s.tmp + i * H, H)
            }
            residency?.release(.layer(l))
        }
        cache.count = p0 + n

        // Output projection, in chunks of logitRows rows (and of the weights' rows when streamed).
        let outputChunks = residency?.outputChunks ?? wholeOutput
        let first = request == .last ? n - 1 : 0
        var start = first
        while start < n {
            let rows = min(s.logitRows, n - start)
            perToken(rows, pool) { i in
                Vector.rmsNorm(s.x + (start + i) * H, weights.outputNorm.values, s.xn + i * H, H, eps: c.normEps)
            }
            quantize(s.xn, width: H, n: rows, for: s.outputPlan, s, pool)
            for (chunk, range) in outputChunks.enumerated() {
                try residency?.acquire(.output(chunk: chunk))
                multiply(s.outputPlan, n: rows, s, pool, within: range)
                residency?.release(.output(chunk: chunk))
            }
            for i in 0..<rows {
                let row = s.logits + i * c.vocabSize
                if let cap = c.finalLogitSoftcap { Vector.softcap(row, c.vocabSize, cap: cap) }
                onLogits(start + i, UnsafeBufferPointer(start: row, count: c.vocabSize))
            }
            start += rows
        }
    }

    /// gate = act(gate) * up, for the configured gating activation.
    @inline(__always)
    func activate(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafeMutablePointer<Float>, _ n: Int) {
        switch config.activation {
        case .silu: Vector.swiglu(gate, up, n)
        case .geluTanh: Vector.geglu(gate, up, n)
        }
    }

    /// Sparse mixture of experts into s.tmp, one token at a time (so a batch and single tokens give
    /// the same bits): softmax over the router's logits, the top k renormalized, and the chosen
    /// experts' outputs summed with those weights (Mixtral).
    func mixture(_ moe: MoEPlan, n: Int, _ s: DecoderScratch, _ pool: ThreadPool) {
        let c = config, H = c.hiddenSize, F = c.ffnSize, E = c.expertCount, K = c.expertsPerToken
        for i in 0..<n {
            let x = s.xn + i * H, out = s.tmp + i * H
            quantize(x, width: H, n: 1, for: moe.router, s, pool)
            multiply(moe.router, n: 1, s, pool)
            Vector.softmax(s.routerLogits, E)
            // Top k by probability (lower index first on ties, like torch.topk on CPU).
            var total: Float = 0
            for k in 0..<K {
                var best = -1
                for e in 0..<E where (0..<k).allSatisfy({ s.chosenExperts[$0] != e }) {
                    if best < 0 || s.routerLogits[e] > s.routerLogits[best] { best = e }
                }
                s.chosenExperts[k] = best
                s.chosenWeights[k] = s.routerLogits[best]
                total += s.routerLogits[best]
            }
            for j in 0..<H { out[j] = 0 }
            for k in 0..<K {
                let e = s.chosenExperts[k]
                quantize(x, width: H, n: 1, for: moe.gateUp[e], s, pool)
                multiply(moe.gateUp[e], n: 1, s, pool)
                activate(s.gate, s.up, F)
                quantize(s.gate, width: F, n: 1, for: moe.down[e], s, pool)
                multiply(moe.down[e], n: 1, s, pool)
                let weight = s.chosenWeights[k] / total
                for j in 0..<H { out[j] += weight * s.expertOut[j] }
            }
        }
    }

    /// Runs body for each token index; on the caller's thread for one token, else across the pool.
    @inline(__always)
    func perToken(_ n: Int, _ pool: ThreadPool, _ body: (Int) -> Void) {
        if n == 1 { body(0); return }
        pool.parallelFor(n) { r in for i in r { body(i) } }
    }

    /// Quantizes n rows of `width` activations once per activation type the consumers need.
    func quantize(_ x: UnsafeMutablePointer<Float>, width: Int, n: Int, for consumers: [MatmulJob],
                  _ s: DecoderScratch, _ pool: ThreadPool) {
        var done: UInt64 = 0
        for job in consumers {
            let k = job.linear.kernels
            let bit = UInt64(1) << UInt64(s.slot(for: k.activationType))
            if done & bit != 0 { continue }
            done |= bit
            let dst = s.buffer(for: k.activationType)
            let stride = k.activationBytes(width)
            perToken(n, pool) { i in k.quantizeActivation(x + i * width, dst + i * stride, width) }
        }
    }

    /// y = W x for each job, all in one dispatch: every thread takes its share of each W's rows
    /// (of the rows `within`, when given: the rest of y is left as it is).
    func multiply(_ jobs: [MatmulJob], n: Int, _ s: DecoderScratch, _ pool: ThreadPool, within: Range<Int>? = nil) {
        pool.run { t, threads in
            for job in jobs {
                let w = job.linear, y = job.out
                let range = within ?? 0..<w.outputs
                let share = ThreadPool.chunk(range.count, part: t, of: threads, granule: 16)
                let rows = (range.lowerBound + share.lowerBound)..<(range.lowerBound + share.upperBound)
                if rows.isEmpty { continue }
                let k = w.kernels
                let xq = UnsafeRawPointer(s.buffer(for: k.activationType))
                if n == 1 {
                    k.matvec(w.weights, rows, w.inputs, xq, y + rows.lowerBound)
                } else {
                    k.matmul(w.weights, rows, w.inputs, xq, k.activationBytes(w.inputs), n, y, w.outputs)
                }
                if let b = w.bias {
                    for i in 0..<n { for r in rows { y[i * w.outputs + r] += b[r] } }
                }
            }
        }
    }

    /// Causal (optionally windowed) attention of every (token, head) pair of the batch.
    func attend(layer l: Int, n: Int, p0: Int, sliding: Bool, _ cache: KVCache, _ s: DecoderScratch, _ pool: ThreadPool) {
        let c = config
        let group = c.headCount / c.kvHeadCount
        let window = sliding ? c.slidingWindow! : Int.max
        let keys0 = cache.keyRow(layer: l, position: 0)
        let values0 = cache.valueRow(layer: l, position: 0)
        pool.run { t, threads in
            // (token, kv head) pairs are dealt out round-robin: causal rows grow with the position,
            // so contiguous chunks would leave the thread with the early tokens idle.
            let scores = s.scores + t * s.scoreCapacity
            var pair = t
            while pair < n * c.kvHeadCount {
                let i = pair / c.kvHeadCount, kvHead = pair % c.kvHeadCount
                let pos = p0 + i
                let lo = window == Int.max ? 0 : max(0, pos - window + 1)
                let h = kvHead * group
                cacheKernels.heads(s.q + i * c.qDim + h * c.headDim, group,
                                   keys0 + kvHead * c.headDim * cache.type.bytes, values0 + kvHead * c.valueDim * cache.type.bytes,
                                   c.kvDim, c.vDim, c.headDim, c.valueDim, lo..<(pos + 1), c.attentionScale, scores,
                                   s.att + i * c.headCount * c.valueDim + h * c.valueDim)
                pair += threads
            }
        }
    }
}

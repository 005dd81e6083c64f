// The parts of a decoder's weights that layer streaming moves as a whole, found from where the
// loaded tensors point into their mapped files (so a split folder and a single GGUF both work).
import SwiftletCore
import SwiftletModels

/// Bytes [offset, offset + count) of a mapped file.
struct FileRange {
    let file: MappedFile
    var offset: Int
    var count: Int
    var end: Int { offset + count }

    func intersects(_ other: FileRange) -> Bool { file === other.file && offset < other.end && other.offset < end }
}

/// One part of the weights (a transformer block, or a row chunk of the output projection) and
/// the file bytes it reads.
struct StreamUnit {
    let part: WeightPart
    let ranges: [FileRange]
    var bytes: Int { ranges.reduce(0) { $0 + $1.count } }
    /// Kept in memory for the model's whole life (decided by the budget).
    var pinned = false
}

enum StreamUnits {
    /// The units of `model`: one per layer, and one per row chunk of the output projection with
    /// chunks no larger than the largest layer (so the head never needs more memory than a layer).
    static func of(_ model: DecoderModel) throws -> (layers: [StreamUnit], output: [StreamUnit], outputChunks: [Range<Int>]) {
        let files = model.weights.source.mappedFiles
        let layers = try model.weights.layers.enumerated().map { l, w in
            StreamUnit(part: .layer(l), ranges: try ranges(of: tensors(of: w), in: files, what: "layer \(l)"))
        }
        let slot = max(layers.map(\.bytes).max() ?? 0, MappedFile.pageSize)
        let out = model.weights.output
        let rowsPerChunk = max(1, min(out.outputs, slot / max(out.rowBytes, 1)))
        let chunks = stride(from: 0, to: out.outputs, by: rowsPerChunk).map { $0..<min(out.outputs, $0 + rowsPerChunk) }
        let output = try chunks.enumerated().map { c, rows in
            StreamUnit(part: .output(chunk: c),
                       ranges: try ranges(of: [(out.weights + rows.lowerBound * out.rowBytes, rows.count * out.rowBytes)],
                                          in: files, what: "output rows \(rows)"))
        }
        return (layers, output, chunks)
    }

    /// Every byte range one layer reads: its matrices, biases and norms.
    static func tensors(of w: LayerWeights) -> [(UnsafeRawPointer, Int)] {
        var linears = [w.q, w.k, w.v, w.o]
        switch w.feedForward {
        case let .dense(gate, up, down): linears += [gate, up, down]
        case let .experts(router, experts): linears += [router] + experts.flatMap { [$0.gate, $0.up, $0.down] }
        }
        var out: [(UnsafeRawPointer, Int)] = linears.map { ($0.weights, $0.outputs * $0.rowBytes) }
        out += linears.compactMap { l in l.bias.map { (UnsafeRawPointer($0), l.outputs * 4) } }
        let norms = [w.attnNorm, w.ffnNorm] + [w.qNorm, w.kNorm, w.postAttnNorm, w.postFfnNorm].compactMap { $0 }
        out += norms.map { (UnsafeRawPointer($0.values), $0.count * 4) }
        return out
    }

    /// The byte ranges in `files` that `spans` cover, merged where they touch or overlap (within a
    /// page). Spans outside every file (vectors converted onto the heap at load) are not streamed.
    static func ranges(of spans: [(UnsafeRawPointer, Int)], in files: [MappedFile], what: String) throws -> [FileRange] {
        var found: [FileRange] = []
        for (p, n) in spans where n > 0 {
            guard let f = files.first(where: { $0.contains(p) }) else { continue }
            let offset = p - f.base
            guard offset + n <= f.count else {
                throw RuntimeError("\(what): \(n) bytes at offset \(offset) run past the end of \(f.path) (\(f.count) bytes)")
            }
            found.append(FileRange(file: f, offset: offset, count: n))
        }
        found.sort { $0.file === $1.file ? $0.offset < $1.offset : ObjectIdentifier($0.file) < ObjectIdentifier($1.file) }
        var merged: [FileRange] = []
        for r in found {
            if var last = merged.last, last.file === r.file, r.offset <= last.end + MappedFile.pageSize {
                last.count = max(last.end, r.end) - last.offset
                merged[merged.count - 1] = last
            } else {
                merged.append(r)
            }
        }
        return merged
    }
}

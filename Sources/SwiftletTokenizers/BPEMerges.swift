// Ranked byte-pair merges and the merge loop shared by the GGUF byte-level tokenizer and the Hugging Face
// BPE model: adjacent symbols are merged lowest rank first (leftmost first among equal ranks), as both
// llama.cpp's llm_tokenizer_bpe and Hugging Face's `Word::merge_all` do.

struct BPEMerges: Sendable {
    /// (left symbol << 32 | right symbol) -> (rank << 32 | merged symbol).
    private var table: [UInt64: UInt64] = [:]

    var count: Int { table.count }

    init(capacity: Int) { table.reserveCapacity(capacity) }

    /// Records that `left` followed by `right` becomes `merged` at `rank`; an earlier rule for the same pair wins.
    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int) {
        let key = Self.key(left, right)
        if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
    }

    @inline(__always) private static func key(_ l: Int32, _ r: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
    }

    /// The symbols left after applying every possible merge to `symbols`.
    func apply(_ symbols: [Int32]) -> [Int32] {
        let m = symbols.count
        guard m > 1 else { return symbols }
        var sym = symbols
        var next = Array(1...m)  // m = none
        next[m - 1] = -1
        var prev = Array(-1..<(m - 1))
        var alive = [Bool](repeating: true, count: m)
        var heap = BinaryHeap<Bigram>()
        func push(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0, let v = table[Self.key(sym[l], sym[r])] else { return }
            heap.push(Bigram(rank: UInt32(v >> 32), left: Int32(l), right: Int32(r),
                             leftSymbol: sym[l], rightSymbol: sym[r], merged: Int32(truncatingIfNeeded: v)))
        }
        for k in 1..<m { push(k - 1, k) }
        while let b = heap.pop() {
            let l = Int(b.left), r = Int(b.right)
            guard alive[l], alive[r], sym[l] == b.leftSymbol, sym[r] == b.rightSymbol else { continue }
            sym[l] = b.merged
            alive[r] = false
            next[l] = next[r]
            if next[r] >= 0 { prev[next[r]] = l }
            push(prev[l], l)
            push(l, next[l])
        }
        var kept: [Int32] = []
        var k = 0
        while k >= 0 { kept.append(sym[k]); k = next[k] }
        return kept
    }
}

struct Bigram: HeapOrdered {
    var rank: UInt32
    var left: Int32
    var right: Int32
    var leftSymbol: Int32
    var rightSymbol: Int32
    var merged: Int32

    /// Lower rank first, then the leftmost pair.
    @inline(__always) func before(_ o: Bigram) -> Bool { rank != o.rank ? rank < o.rank : left < o.left }
}

// Finds control and user-defined token texts in input text before it is tokenized, with the result of
// llama.cpp's tokenizer_st_partition: special tokens are taken longest first; each one claims its
// leftmost non-overlapping occurrences in the text not yet claimed by a longer one.

enum Fragment: Equatable {
    /// Raw text still to tokenize: a byte range of the input.
    case text(Range<Int>)
    case token(Int32)
}

struct SpecialTokenMatcher: Sendable {
    /// Special token ids in priority order (longest text first, then lowest id).
    private let ordered: [Int32]
    private let lengths: [Int]
    /// Only user-defined tokens are matched without `parseSpecial`.
    private let alwaysMatched: [Bool]
    /// Trie over the texts: edges keyed by `node << 8 | byte`; `terminal[node]` is a priority or -1.
    private let edges: [Int: Int32]
    private let terminal: [Int32]
    private let startsSpecial: [Bool]

    var isEmpty: Bool { ordered.isEmpty }

    init(table: ByteStringTable, attributes: [TokenAttributes]) {
        var ids: [Int32] = []
        for i in 0..<attributes.count where !attributes[i].isDisjoint(with: [.control, .userDefined, .unknown]) {
            ids.append(Int32(i))
        }
        ids.sort { a, b in
            let la = table.length(a), lb = table.length(b)
            return la != lb ? la > lb : a < b
        }
        ordered = ids
        lengths = ids.map { table.length($0) }
        alwaysMatched = ids.map { attributes[Int($0)].isDisjoint(with: [.control, .unknown]) }

        var edges: [Int: Int32] = [:]
        var terminal: [Int32] = [-1]
        var starts = [Bool](repeating: false, count: 256)
        for (rank, id) in ids.enumerated() {
            let text = table.bytes(id)
            guard let first = text.first else { continue }
            starts[Int(first)] = true
            var node: Int32 = 0
            for b in text {
                let key = Int(node) << 8 | Int(b)
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = next
                    node = next
                }
            }
            if terminal[Int(node)] < 0 { terminal[Int(node)] = Int32(rank) }  // a duplicate text keeps the first
        }
        self.edges = edges
        self.terminal = terminal
        startsSpecial = starts
    }

    /// Splits `text` into raw-text ranges and special tokens, in order.
    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        let n = text.count
        if n == 0 { return [] }
        if ordered.isEmpty { return [.text(0..<n)] }

        // Every occurrence of every eligible special token, as (priority << 32 | start).
        var occurrences: [UInt64] = []
        for start in 0..<n where startsSpecial[Int(text[start])] {
            var node = 0
            var i = start
            while i < n, let next = edges[node << 8 | Int(text[i])] {
                node = Int(next)
                i += 1
                let rank = terminal[node]
                if rank >= 0 && (parseSpecial || alwaysMatched[Int(rank)]) {
                    occurrences.append(UInt64(rank) << 32 | UInt64(start))
                }
            }
        }
        if occurrences.isEmpty { return [.text(0..<n)] }
        occurrences.sort()

        var claimed = [Bool](repeating: false, count: n)
        var matches: [(start: Int, end: Int, id: Int32)] = []
        var currentRank = -1
        var lastEnd = 0
        for o in occurrences {
            let rank = Int(o >> 32), start = Int(o & 0xFFFF_FFFF)
            if rank != currentRank { currentRank = rank; lastEnd = 0 }
            let end = start + lengths[rank]
            guard start >= lastEnd else { continue }
            var free = true
            for k in start..<end where claimed[k] { free = false; break }
            guard free else { continue }
            for k in start..<end { claimed[k] = true }
            matches.append((start, end, ordered[rank]))
            lastEnd = end
        }
        matches.sort { $0.start < $1.start }

        var out: [Fragment] = []
        var pos = 0
        for m in matches {
            if m.start > pos { out.append(.text(pos..<m.start)) }
            out.append(.token(m.id))
            pos = m.end
        }
        if pos < n { out.append(.text(pos..<n)) }
        return out
    }
}

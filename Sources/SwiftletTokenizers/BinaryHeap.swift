// A binary heap of merge candidates, shared by the BPE and SentencePiece tokenizers.

/// Something with a priority order: `before` is true when self comes out of the heap first.
protocol HeapOrdered {
    func before(_ other: Self) -> Bool
}

/// A binary heap; `pop` returns the element that comes before all others.
struct BinaryHeap<T: HeapOrdered> {
    private var items: [T] = []

    mutating func push(_ x: T) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i].before(items[p]) else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> T? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].before(items[m]) { m = l }
                if r < items.count && items[r].before(items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

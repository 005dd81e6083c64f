// An interning table of byte strings: all texts in one buffer, an open-addressing index over them.
// Token lookups hash a slice of the input in place, so encoding allocates no String per lookup.

struct ByteStringTable: Sendable {
    private(set) var storage: [UInt8] = []
    /// Start of string `i` is `offsets[i]`, its end `offsets[i + 1]`.
    private(set) var offsets: [Int] = [0]
    /// Open addressing, linear probing; -1 is empty.
    private var slots: [Int32]
    private var mask: Int
    /// Ids appended with `appendUnfindable`, left out of the index.
    private var unfindable: Set<Int32> = []

    var count: Int { offsets.count - 1 }

    init(expectedCount: Int, expectedBytes: Int = 0) {
        var size = 16
        while size < expectedCount * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        storage.reserveCapacity(expectedBytes)
        offsets.reserveCapacity(expectedCount + 1)
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    func bytes(_ id: Int32) -> ArraySlice<UInt8> {
        storage[offsets[Int(id)]..<offsets[Int(id) + 1]]
    }

    func length(_ id: Int32) -> Int { offsets[Int(id) + 1] - offsets[Int(id)] }

    /// The id of `key`, or nil.
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        var i = Self.hash(key) & mask
        return storage.withUnsafeBufferPointer { st in
            while true {
                let id = slots[i]
                if id < 0 { return nil }
                let s = offsets[Int(id)], e = offsets[Int(id) + 1]
                if e - s == key.count && (key.isEmpty || memcmpEqual(st.baseAddress! + s, key.baseAddress!, key.count)) {
                    return id
                }
                i = (i + 1) & mask
            }
        }
    }

    func find(_ key: [UInt8]) -> Int32? { key.withUnsafeBufferPointer { find($0) } }

    func find(_ key: String) -> Int32? {
        var k = key
        return k.withUTF8 { find($0) }
    }

    /// Appends `key` as a new string (ids are positions, so duplicates get their own id; lookups then
    /// find the last one, as a later `token_to_id[text] = i` does in llama.cpp).
    @discardableResult
    mutating func append(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        let id = Int32(count)
        storage.append(contentsOf: key)
        offsets.append(storage.count)
        if count * 2 > slots.count { grow() } else { place(id, hash: Self.hash(key), key: key) }
        return id
    }

    /// Appends `key` as a new string that `find` never returns (an id with no text of its own).
    mutating func appendUnfindable(_ key: [UInt8]) {
        unfindable.insert(Int32(count))
        storage.append(contentsOf: key)
        offsets.append(storage.count)
    }

    /// The id of `key`, appending it if absent.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        if let id = find(key) { return id }
        return append(key)
    }

    mutating func intern(_ key: [UInt8]) -> Int32 { key.withUnsafeBufferPointer { intern($0) } }

    private mutating func place(_ id: Int32, hash: Int, key: UnsafeBufferPointer<UInt8>) {
        var i = hash & mask
        while slots[i] >= 0 {
            let other = slots[i]
            if length(other) == key.count && storage[offsets[Int(other)]..<offsets[Int(other) + 1]].elementsEqual(key) {
                slots[i] = id  // a duplicate: the later string wins
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = id
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        let n = count
        let st = storage
        st.withUnsafeBufferPointer { p in
            for id in 0..<n where !unfindable.contains(Int32(id)) {
                let key = UnsafeBufferPointer(rebasing: p[offsets[id]..<offsets[id + 1]])
                place(Int32(id), hash: Self.hash(key), key: key)
            }
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

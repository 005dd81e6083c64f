// Bounds-checked little-endian cursor over a mapped file, used by the GGUF reader.

struct ByteReader {
    let base: UnsafeRawPointer
    let count: Int
    let path: String
    var offset = 0

    var remaining: Int { count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let n = MemoryLayout<T>.size
        guard remaining >= n else { throw truncated(what()) }
        let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += n
        return T(littleEndian: v)
    }

    func truncated(_ what: String) -> GGUFError {
        GGUFError(path, "truncated: file ends at byte \(count) while reading \(what) at \(offset)")
    }

    /// A count that must be satisfiable by the bytes left (each item taking at least `minBytesEach`).
    mutating func readCount(_ what: String, minBytesEach: Int) throws -> Int {
        let n = try read(UInt64.self, what)
        guard n <= UInt64(remaining / minBytesEach) else {
            throw GGUFError(path, "\(what) \(n) is impossible for a file of \(count) bytes")
        }
        return Int(n)
    }

    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let n = try read(UInt64.self, what())
        guard n <= UInt64(remaining) else {
            throw GGUFError(path, "\(what()): string length \(n) runs past the end of the file")
        }
        let len = Int(n)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: len), as: UTF8.self)
        offset += len
        return s
    }

    mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, key))
        case .int8: return .int8(try read(Int8.self, key))
        case .uint16: return .uint16(try read(UInt16.self, key))
        case .int16: return .int16(try read(Int16.self, key))
        case .uint32: return .uint32(try read(UInt32.self, key))
        case .int32: return .int32(try read(Int32.self, key))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, key)))
        case .uint64: return .uint64(try read(UInt64.self, key))
        case .int64: return .int64(try read(Int64.self, key))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, key)))
        case .bool:
            let b = try read(UInt8.self, key)
            guard b <= 1 else { throw GGUFError(path, "metadata \(key): bool value \(b)") }
            return .bool(b == 1)
        case .string: return .string(try readString(key))
        case .array:
            guard depth < GGUFFile.maxNesting else {
                throw GGUFError(path, "metadata \(key): arrays nested deeper than \(GGUFFile.maxNesting)")
            }
            let rawType = try read(UInt32.self, "\(key) element type")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(path, "metadata \(key): unknown array element type \(rawType)")
            }
            let n = try readCount("\(key) array length", minBytesEach: Self.minSize(elementType))
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try readValue(elementType, key: key, depth: depth + 1)) }
            return .array(elementType, items)
        }
    }

    static func minSize(_ t: GGUFValueType) -> Int {
        switch t {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }
}

// Metadata values of a GGUF file: every scalar type, strings and (nested) arrays.

/// The value types GGUF metadata can hold (ids as stored in the file).
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// One metadata value.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    /// An array with its declared element type (arrays of arrays are allowed).
    case array(GGUFValueType, [GGUFValue])

    /// The value as an integer, if it is any integer type (or bool) that fits in Int.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a floating-point number, if it is numeric.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return int.map { $0 != 0 }
    }

    public var array: [GGUFValue]? {
        if case .array(_, let a) = self { return a }
        return nil
    }

    public var strings: [String]? { array?.compactMap(\.string) }
    public var floats: [Float]? { array?.compactMap { $0.double.map(Float.init) } }
    public var ints: [Int]? { array?.compactMap(\.int) }

    /// A short human-readable rendering (long arrays are summarized).
    public var summary: String {
        switch self {
        case .string(let s):
            let flat = s.replacingNewlines()
            return flat.count > 60 ? "\"\(flat.prefix(57))...\"" : "\"\(flat)\""
        case .array(let t, let a):
            if a.count > 8 { return "[\(t) x \(a.count)]" }
            return "[" + a.map(\.summary).joined(separator: ", ") + "]"
        case .bool(let b): return String(b)
        case .float32(let f): return String(f)
        case .float64(let f): return String(f)
        default: return int.map(String.init) ?? "?"
        }
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" ? " " : $0 })
    }
}

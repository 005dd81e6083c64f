// Values seen by chat templates: JSON data plus Jinja's undefined and mutable namespaces.
import Foundation
import SwiftletCore

/// An object whose keys keep their insertion order (as Python dicts do), so `tojson` and
/// `string` print keys in the order the JSON gave them.
public struct JinjaObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var storage: [String: JinjaValue] = [:]

    public init() {}
    public init(_ pairs: [(String, JinjaValue)]) { for (k, v) in pairs { self[k] = v } }

    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }
    public var pairs: [(String, JinjaValue)] { keys.map { ($0, storage[$0]!) } }
    public var count: Int { keys.count }
    public static func == (a: JinjaObject, b: JinjaObject) -> Bool { a.storage == b.storage }
}

/// `namespace(...)`: the one mutable object of Jinja, shared by reference across scopes.
public final class JinjaNamespace: @unchecked Sendable {
    var object: JinjaObject
    init(_ object: JinjaObject) { self.object = object }
}

/// A value inside a template.
public indirect enum JinjaValue: Sendable, Equatable {
    case null, undefined
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(JinjaObject)
    case namespace(JinjaNamespace)

    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.undefined, .undefined): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.bool(x), .int(y)), let (.int(y), .bool(x)): return (x ? 1 : 0) == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        case let (.namespace(x), .namespace(y)): return x === y
        default: return false
        }
    }

    /// Builds a value from `JSONSerialization` output (key order is then alphabetical;
    /// prefer `init(json:)` to keep the document's order).
    public init(any: Any?) {
        switch any {
        case nil, is NSNull: self = .null
        case let s as String: self = .string(s)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
        case let a as [Any]: self = .array(a.map { JinjaValue(any: $0) })
        case let d as [String: Any]:
            self = .object(JinjaObject(d.keys.sorted().map { ($0, JinjaValue(any: d[$0])) }))
        default: self = .string("\(any!)")
        }
    }

    /// Parses JSON text, keeping object keys in document order.
    public init(json: String) throws {
        var p = JSONReader(Array(json.unicodeScalars))
        self = try p.value()
        p.skipSpace()
        if p.i < p.s.count { throw ChatTemplateError.render(line: 0, "trailing characters in JSON") }
    }

    var isTruthy: Bool {
        switch self {
        case .null, .undefined: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.count > 0
        case .namespace: return true
        }
    }

    /// Drops object keys whose value is None, recursively (as transformers does before rendering).
    var droppingNulls: JinjaValue {
        switch self {
        case .array(let a): return .array(a.map(\.droppingNulls))
        case .object(let o):
            var r = JinjaObject()
            for (k, v) in o.pairs where v != .null { r[k] = v.droppingNulls }
            return .object(r)
        default: return self
        }
    }

    /// Python's `str()`.
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr()`.
    var pythonRepr: String {
        switch self {
        case .null: return "None"
        case .undefined: return ""
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloat(d)
        case .string(let s):
            let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var out = String(quote)
            for c in s {
                switch c {
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case quote: out += "\\\(quote)"
                default: out.append(c)
                }
            }
            out.append(quote)
            return out
        case .array(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let o):
            return "{" + o.pairs.map { JinjaValue.string($0.0).pythonRepr + ": " + $0.1.pythonRepr }
                .joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace \(JinjaValue.object(n.object).pythonRepr)>"
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    /// `json.dumps(value, ensure_ascii=False, indent=indent)`.
    func json(indent: Int?, level: Int = 0) -> String {
        switch self {
        case .null, .undefined: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return Self.pythonFloat(d)
        case .string(let s): return Self.jsonQuote(s)
        case .array(let a):
            return Self.jsonContainer(a.map { $0.json(indent: indent, level: level + 1) }, "[", "]", indent, level)
        case .object(let o):
            return Self.jsonContainer(o.pairs.map { Self.jsonQuote($0.0) + ": " + $0.1.json(indent: indent, level: level + 1) },
                                      "{", "}", indent, level)
        case .namespace(let n): return JinjaValue.object(n.object).json(indent: indent, level: level)
        }
    }

    private static func jsonContainer(_ items: [String], _ open: String, _ close: String, _ indent: Int?, _ level: Int) -> String {
        if items.isEmpty { return open + close }
        guard let indent else { return open + items.joined(separator: ", ") + close }
        let inner = "\n" + String(repeating: " ", count: indent * (level + 1))
        let outer = "\n" + String(repeating: " ", count: indent * level)
        return open + inner + items.joined(separator: "," + inner) + outer + close
    }

    static func jsonQuote(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }
}

/// A small JSON reader that keeps object key order.
struct JSONReader {
    let s: [Unicode.Scalar]
    var i = 0
    init(_ s: [Unicode.Scalar]) { self.s = s }

    mutating func skipSpace() { while i < s.count, " \n\r\t".unicodeScalars.contains(s[i]) { i += 1 } }
    func fail(_ m: String) -> ChatTemplateError { .render(line: 0, "JSON: \(m) at offset \(i)") }

    mutating func value() throws -> JinjaValue {
        skipSpace()
        guard i < s.count else { throw fail("unexpected end") }
        switch s[i] {
        case "{":
            i += 1
            var o = JinjaObject()
            skipSpace()
            if i < s.count, s[i] == "}" { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard case .string(let k) = try value() else { throw fail("expected key") }
                skipSpace()
                guard i < s.count, s[i] == ":" else { throw fail("expected ':'") }
                i += 1
                o[k] = try value()
                skipSpace()
                guard i < s.count else { throw fail("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "}" { i += 1; return .object(o) }
                throw fail("expected ',' or '}'")
            }
        case "[":
            i += 1
            var a: [JinjaValue] = []
            skipSpace()
            if i < s.count, s[i] == "]" { i += 1; return .array(a) }
            while true {
                a.append(try value())
                skipSpace()
                guard i < s.count else { throw fail("unexpected end") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "]" { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case "\"":
            i += 1
            var out = String.UnicodeScalarView()
            while i < s.count, s[i] != "\"" {
                if s[i] == "\\" {
                    i += 1
                    guard i < s.count else { break }
                    switch s[i] {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "b": out.append("\u{08}")
                    case "f": out.append("\u{0C}")
                    case "u":
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), i + 2 < s.count, s[i + 1] == "\\", s[i + 2] == "u" {
                            i += 2
                            let low = try hex4()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: out.append(s[i])
                    }
                } else {
                    out.append(s[i])
                }
                i += 1
            }
            i += 1
            return .string(String(out))
        default:
            let start = i
            while i < s.count, "+-0123456789.eEtruefalsn".unicodeScalars.contains(s[i]) { i += 1 }
            let word = String(String.UnicodeScalarView(s[start..<i]))
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                if let n = Int(word) { return .int(n) }
                if let d = Double(word) { return .double(d) }
                throw fail("bad literal '\(word)'")
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 < s.count, let v = UInt32(String(String.UnicodeScalarView(s[(i + 1)...(i + 4)])), radix: 16) else {
            throw fail("bad \\u escape")
        }
        i += 4
        return v
    }
}

// Filters (`x | name`), tests (`x is name`) and Python-style methods (`s.strip()`).
import Foundation

extension JinjaEvaluator {
    func applyFilter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? {
            if i < args.count { return args[i] }
            return kwargs.first { $0.0 == key }?.1
        }
        switch name {
        case "trim":
            guard case .string(let s) = v else { return v == .undefined ? .string("") : .string(v.pythonString.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        case "tojson":
            var indent: Int? = nil
            if case .int(let n)? = arg(0, "indent") { indent = n }
            return .string(v.json(indent: indent))
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            case .undefined: return .int(0)
            default: throw fail("object of type \(typeName(v)) has no length")
            }
        case "default", "d":
            let dflt = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.isTruthy ?? false
            if v == .undefined || (boolean && !v.isTruthy) { return dflt }
            return v
        case "first": return try iterate(v).first ?? .undefined
        case "last": return try iterate(v).last ?? .undefined
        case "join":
            let sep = arg(0, "d")?.pythonString ?? ""
            var items = try iterate(v)
            if case .string(let attr)? = arg(1, "attribute") { items = items.map { attribute($0, attr) } }
            return .string(items.map(\.pythonString).joined(separator: sep))
        case "upper": return .string(v.pythonString.uppercased())
        case "lower": return .string(v.pythonString.lowercased())
        case "capitalize": return .string(Self.capitalize(v.pythonString))
        case "title": return .string(Self.title(v.pythonString))
        case "replace":
            guard let a = arg(0, "old"), let b = arg(1, "new") else { throw fail("replace needs two arguments") }
            return .string(v.pythonString.replacingOccurrences(of: a.pythonString, with: b.pythonString))
        case "string": return .string(v.pythonString)
        case "int":
            switch v {
            case .int: return v
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if let i = Int(t) { return .int(i) }
                if let d = Double(t) { return .int(Int(d)) }
                return arg(0, "default") ?? .int(0)
            default: return arg(0, "default") ?? .int(0)
            }
        case "float":
            if let d = number(v) { return .double(d) }
            if case .string(let s) = v, let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .double(d) }
            return arg(0, "default") ?? .double(0)
        case "abs":
            switch v {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("abs needs a number, not \(typeName(v))")
            }
        case "round":
            guard let d = number(v) else { throw fail("round needs a number, not \(typeName(v))") }
            var precision = 0
            if case .int(let p)? = arg(0, "precision") { precision = p }
            let method = arg(1, "method")?.pythonString ?? "common"
            let scale = Foundation.pow(10.0, Double(precision))
            let rule: FloatingPointRoundingRule = method == "floor" ? .down : method == "ceil" ? .up : .toNearestOrEven
            return .double((d * scale).rounded(rule) / scale)
        case "list": return .array(try iterate(v))
        case "items":
            switch v {
            case .object(let o): return .array(o.pairs.map { .array([.string($0.0), $0.1]) })
            case .namespace(let n): return .array(n.object.pairs.map { .array([.string($0.0), $0.1]) })
            case .undefined: return .array([])
            default: throw fail("items needs a mapping, not \(typeName(v))")
            }
        case "selectattr", "rejectattr":
            guard case .string(let attr)? = args.first else { throw fail("\(name) needs an attribute name") }
            let keep = name == "selectattr"
            return .array(try iterate(v).filter { item in
                let a = attribute(item, attr)
                let ok = args.count > 1 ? try applyTest(args[1].pythonString, a, Array(args.dropFirst(2))) : a.isTruthy
                return ok == keep
            })
        case "select", "reject":
            let keep = name == "select"
            return .array(try iterate(v).filter { item in
                let ok = args.isEmpty ? item.isTruthy : try applyTest(args[0].pythonString, item, Array(args.dropFirst()))
                return ok == keep
            })
        case "map":
            if let attr = kwargs.first(where: { $0.0 == "attribute" })?.1.pythonString {
                let dflt = kwargs.first { $0.0 == "default" }?.1
                return .array(try iterate(v).map { item in
                    let a = attribute(item, attr)
                    return a == .undefined ? dflt ?? .undefined : a
                })
            }
            guard case .string(let filter)? = args.first else { throw fail("map needs a filter name or attribute=") }
            return .array(try iterate(v).map { try applyFilter(filter, $0, Array(args.dropFirst()), []) })
        case "unique":
            var seen: [JinjaValue] = []
            for item in try iterate(v) where !seen.contains(item) { seen.append(item) }
            return .array(seen)
        case "reverse":
            if case .string(let s) = v { return .string(String(s.reversed())) }
            return .array(try iterate(v).reversed())
        case "sort":
            let reverse = arg(0, "reverse")?.isTruthy ?? false
            let attr = kwargs.first { $0.0 == "attribute" }?.1.pythonString
            let items = try iterate(v)
            let sorted = try items.sorted { a, b in
                let x = attr.map { attribute(a, $0) } ?? a, y = attr.map { attribute(b, $0) } ?? b
                return try binary("<", x, y).isTruthy
            }
            return .array(reverse ? sorted.reversed() : sorted)
        case "dictsort":
            guard case .object(let o) = v else { throw fail("dictsort needs a mapping") }
            return .array(o.pairs.sorted { $0.0 < $1.0 }.map { .array([.string($0.0), $0.1]) })
        case "safe", "e", "escape": return v
        case "indent":
            let width: Int
            if case .int(let w)? = arg(0, "width") { width = w } else { width = 4 }
            let first = arg(1, "first")?.isTruthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = v.pythonString.components(separatedBy: "\n")
            return .string(lines.enumerated().map { i, l in (i == 0 && !first) || l.isEmpty ? l : pad + l }.joined(separator: "\n"))
        case "wordcount": return .int(v.pythonString.split(whereSeparator: \.isWhitespace).count)
        default:
            throw fail("unknown filter '\(name)'")
        }
    }

    func applyTest(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        switch name {
        case "defined": return v != .undefined
        case "undefined": return v == .undefined
        case "none": return v == .null
        case "string": if case .string = v { return true }; return false
        case "mapping": if case .object = v { return true }; if case .namespace = v { return true }; return false
        case "iterable":
            switch v { case .string, .array, .object, .namespace: return true; default: return false }
        case "sequence":
            switch v { case .string, .array, .object: return true; default: return false }
        case "number":
            switch v { case .int, .double: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": return v == .bool(true) && isBoolValue(v)
        case "false": return v == .bool(false) && isBoolValue(v)
        case "equalto", "eq", "==", "sameas": return v == (args.first ?? .undefined)
        case "ne", "!=": return v != (args.first ?? .undefined)
        case "gt", ">": return try binary(">", v, args.first ?? .undefined).isTruthy
        case "lt", "<": return try binary("<", v, args.first ?? .undefined).isTruthy
        case "ge", ">=": return try binary(">=", v, args.first ?? .undefined).isTruthy
        case "le", "<=": return try binary("<=", v, args.first ?? .undefined).isTruthy
        case "in": return try binary("in", v, args.first ?? .undefined).isTruthy
        case "odd": if case .int(let i) = v { return i % 2 != 0 }; return false
        case "even": if case .int(let i) = v { return i % 2 == 0 }; return false
        case "divisibleby":
            if case .int(let i) = v, case .int(let d)? = args.first, d != 0 { return i % d == 0 }
            return false
        case "lower": return v.pythonString == v.pythonString.lowercased()
        case "upper": return v.pythonString == v.pythonString.uppercased()
        case "callable": return false
        default: throw fail("unknown test '\(name)'")
        }
    }

    private func isBoolValue(_ v: JinjaValue) -> Bool { if case .bool = v { return true }; return false }

    func callMethod(_ base: JinjaValue, _ method: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        switch base {
        case .string(let s): return try stringMethod(s, method, args)
        case .object(let o):
            switch method {
            case "items": return .array(o.pairs.map { .array([.string($0.0), $0.1]) })
            case "keys": return .array(o.keys.map { .string($0) })
            case "values": return .array(o.pairs.map(\.1))
            case "get":
                guard case .string(let k)? = args.first else { return args.count > 1 ? args[1] : .null }
                return o[k] ?? (args.count > 1 ? args[1] : .null)
            default: break
            }
        case .array(let a):
            switch method {
            case "index": if let i = a.firstIndex(of: args.first ?? .undefined) { return .int(i) }
            case "count": return .int(a.filter { $0 == args.first }.count)
            default: break
            }
        case .undefined:
            throw fail("cannot call '\(method)' on an undefined value")
        default: break
        }
        throw fail("\(typeName(base)) has no method '\(method)'")
    }

    private func stringMethod(_ s: String, _ method: String, _ args: [JinjaValue]) throws -> JinjaValue {
        func chars(_ i: Int) -> Set<Character>? {
            if case .string(let c)? = args.count > i ? args[i] : nil { return Set(c) }
            return nil
        }
        func stripSet(_ c: Character, _ set: Set<Character>?) -> Bool { set.map { $0.contains(c) } ?? c.isWhitespace }
        switch method {
        case "strip":
            let set = chars(0)
            return .string(String(s.drop { stripSet($0, set) }.reversed().drop { stripSet($0, set) }.reversed()))
        case "lstrip":
            let set = chars(0)
            return .string(String(s.drop { stripSet($0, set) }))
        case "rstrip":
            let set = chars(0)
            return .string(String(String(s.reversed()).drop { stripSet($0, set) }.reversed()))
        case "split":
            var maxSplit = -1
            if args.count > 1, case .int(let m) = args[1] { maxSplit = m }
            if case .string(let sep)? = args.first {
                guard !sep.isEmpty else { throw fail("empty separator") }
                var parts: [String] = []
                var rest = Substring(s)
                while maxSplit < 0 || parts.count < maxSplit, let r = rest.range(of: sep) {
                    parts.append(String(rest[..<r.lowerBound]))
                    rest = rest[r.upperBound...]
                }
                parts.append(String(rest))
                return .array(parts.map { .string($0) })
            }
            return .array(s.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        case "splitlines":
            var lines = s.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
            if lines.last == "" { lines.removeLast() }
            return .array(lines.map { .string($0) })
        case "startswith", "endswith":
            var candidates: [String] = []
            switch args.first {
            case .string(let p)?: candidates = [p]
            case .array(let ps)?: candidates = ps.map(\.pythonString)
            default: throw fail("\(method) needs a string")
            }
            return .bool(candidates.contains { method == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        case "replace":
            guard args.count >= 2 else { throw fail("replace needs two arguments") }
            let old = args[0].pythonString, new = args[1].pythonString
            if args.count > 2, case .int(let count) = args[2], count >= 0 {
                var out = s
                var done = 0
                var searchFrom = out.startIndex
                while done < count, let r = out.range(of: old, range: searchFrom..<out.endIndex) {
                    out.replaceSubrange(r, with: new)
                    searchFrom = out.index(r.lowerBound, offsetBy: new.count)
                    done += 1
                }
                return .string(out)
            }
            return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(Self.title(s))
        case "capitalize": return .string(Self.capitalize(s))
        case "find":
            guard case .string(let sub)? = args.first else { throw fail("find needs a string") }
            guard let r = s.range(of: sub) else { return .int(-1) }
            return .int(s.distance(from: s.startIndex, to: r.lowerBound))
        case "join": return .string(try iterate(args.first ?? .array([])).map(\.pythonString).joined(separator: s))
        case "format":
            var out = ""
            var rest = Substring(s)
            var next = 0
            while let r = rest.range(of: "{}") {
                out += rest[..<r.lowerBound]
                out += next < args.count ? args[next].pythonString : ""
                next += 1
                rest = rest[r.upperBound...]
            }
            return .string(out + rest)
        default: throw fail("str has no method '\(method)'")
        }
    }

    static func capitalize(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.uppercased() + s.dropFirst().lowercased()
    }

    static func title(_ s: String) -> String {
        var out = ""
        var prevLetter = false
        for c in s {
            out += prevLetter ? c.lowercased() : c.uppercased()
            prevLetter = c.isLetter
        }
        return out
    }
}

// Walks the syntax tree: scopes, statements, operators and calls.
import Foundation

struct JinjaMacro {
    let params: [(String, JinjaExpr?)]
    let body: [JinjaNode]
}

final class JinjaEvaluator {
    var scopes: [[String: JinjaValue]]
    var macros: [String: JinjaMacro] = [:]
    let now: Date
    var line = 0

    static let builtinFunctions: Set<String> = ["namespace", "raise_exception", "strftime_now", "range", "dict"]

    private enum LoopControl: Error { case breakLoop, continueLoop }

    init(globals: [String: JinjaValue], now: Date) {
        scopes = [globals]
        self.now = now
    }

    func fail(_ m: String) -> ChatTemplateError { .render(line: line, m) }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    // MARK: statements

    func render(_ nodes: [JinjaNode], into out: inout String) throws {
        for node in nodes { try execute(node, into: &out) }
    }

    private func execute(_ node: JinjaNode, into out: inout String) throws {
        switch node {
        case .text(let t): out += t
        case let .output(e, l):
            line = l
            out += try eval(e).pythonString
        case let .ifChain(branches, otherwise, l):
            line = l
            for (cond, body) in branches where try eval(cond).isTruthy {
                try render(body, into: &out)
                return
            }
            try render(otherwise, into: &out)
        case let .forLoop(targets, iterable, condition, body, otherwise, l):
            line = l
            try runLoop(targets, try eval(iterable), condition, body, otherwise, into: &out)
        case let .set(target, e, l):
            line = l
            let value = try eval(e)
            switch target {
            case .names(let names):
                if names.count == 1 { scopes[scopes.count - 1][names[0]] = value; return }
                let items = try iterate(value)
                guard items.count == names.count else { throw fail("cannot unpack \(items.count) values into \(names.count) names") }
                for (n, v) in zip(names, items) { scopes[scopes.count - 1][n] = v }
            case let .attribute(name, attr):
                guard case .namespace(let ns) = lookup(name) else { throw fail("cannot set attribute '\(attr)' on '\(name)', which is not a namespace") }
                ns.object[attr] = value
            }
        case let .setBlock(name, body, _):
            var captured = ""
            try render(body, into: &captured)
            scopes[scopes.count - 1][name] = .string(captured)
        case let .macro(name, params, body, _):
            macros[name] = JinjaMacro(params: params, body: body)
        case .block(let body):
            try render(body, into: &out)
        case .breakLoop(let l):
            line = l
            throw LoopControl.breakLoop
        case .continueLoop(let l):
            line = l
            throw LoopControl.continueLoop
        }
    }

    private func runLoop(_ targets: [String], _ iterable: JinjaValue, _ condition: JinjaExpr?, _ body: [JinjaNode],
                         _ otherwise: [JinjaNode], into out: inout String) throws {
        var items = iterable == .undefined || iterable == .null ? [] : try iterate(iterable)
        func bind(_ item: JinjaValue, into scope: inout [String: JinjaValue]) throws {
            if targets.count == 1 { scope[targets[0]] = item; return }
            let parts = try iterate(item)
            guard parts.count == targets.count else { throw fail("cannot unpack \(parts.count) values into \(targets.count) names") }
            for (n, v) in zip(targets, parts) { scope[n] = v }
        }
        if let condition {
            var kept: [JinjaValue] = []
            for item in items {
                var scope: [String: JinjaValue] = [:]
                try bind(item, into: &scope)
                scopes.append(scope)
                defer { scopes.removeLast() }
                if try eval(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { try render(otherwise, into: &out); return }
        let n = items.count
        for (i, item) in items.enumerated() {
            var scope: [String: JinjaValue] = [:]
            scope["loop"] = .object(JinjaObject([
                ("index0", .int(i)), ("index", .int(i + 1)), ("first", .bool(i == 0)), ("last", .bool(i == n - 1)),
                ("length", .int(n)), ("revindex", .int(n - i)), ("revindex0", .int(n - i - 1)),
                ("previtem", i > 0 ? items[i - 1] : .undefined), ("nextitem", i + 1 < n ? items[i + 1] : .undefined),
            ]))
            try bind(item, into: &scope)
            scopes.append(scope)
            defer { scopes.removeLast() }
            do {
                try render(body, into: &out)
            } catch LoopControl.breakLoop {
                break
            } catch LoopControl.continueLoop {
                continue
            }
        }
    }

    func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .array(let a): return a
        case .object(let o): return o.keys.map { .string($0) }
        case .string(let s): return s.map { .string(String($0)) }
        case .namespace(let n): return n.object.keys.map { .string($0) }
        case .undefined: return []
        default: throw fail("\(typeName(v)) is not iterable")
        }
    }

    func typeName(_ v: JinjaValue) -> String {
        switch v {
        case .null: return "None"
        case .undefined: return "undefined"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .namespace: return "namespace"
        }
    }

    // MARK: expressions

    func eval(_ e: JinjaExpr) throws -> JinjaValue {
        switch e {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items): return .array(try items.map(eval))
        case .dict(let pairs):
            var o = JinjaObject()
            for (k, v) in pairs { o[try eval(k).pythonString] = try eval(v) }
            return .object(o)
        case let .attr(base, name): return attribute(try eval(base), name)
        case let .item(base, index): return try subscriptValue(try eval(base), try eval(index))
        case let .slice(base, a, b, c):
            return try slice(try eval(base), try a.map(eval), try b.map(eval), try c.map(eval))
        case let .call(callee, args, kwargs): return try call(callee, args, kwargs)
        case let .filter(base, name, args, kwargs):
            return try applyFilter(name, try eval(base), try args.map(eval), try kwargs.map { ($0.0, try eval($0.1)) })
        case let .test(base, name, args, negated):
            if case .name(let n) = base, name == "defined" || name == "undefined", lookup(n) == .undefined,
               macros[n] != nil || Self.builtinFunctions.contains(n) {
                return .bool((name == "defined") != negated)
            }
            let r = try applyTest(name, try eval(base), try args.map(eval))
            return .bool(r != negated)
        case .not(let x): return .bool(!(try eval(x).isTruthy))
        case .negate(let x):
            switch try eval(x) {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            case let v: throw fail("bad operand type for unary -: \(typeName(v))")
            }
        case let .and(l, r):
            let lv = try eval(l)
            return lv.isTruthy ? try eval(r) : lv
        case let .or(l, r):
            let lv = try eval(l)
            return lv.isTruthy ? lv : try eval(r)
        case let .ternary(value, cond, other):
            return try eval(cond).isTruthy ? try eval(value) : try other.map(eval) ?? .undefined
        case let .binary(op, l, r): return try binary(op, try eval(l), try eval(r))
        }
    }

    func attribute(_ base: JinjaValue, _ name: String) -> JinjaValue {
        switch base {
        case .object(let o): return o[name] ?? .undefined
        case .namespace(let n): return n.object[name] ?? .undefined
        default: return .undefined
        }
    }

    func subscriptValue(_ base: JinjaValue, _ index: JinjaValue) throws -> JinjaValue {
        switch (base, index) {
        case let (.array(a), .int(i)):
            let j = i < 0 ? a.count + i : i
            return a.indices.contains(j) ? a[j] : .undefined
        case let (.string(s), .int(i)):
            let chars = Array(s)
            let j = i < 0 ? chars.count + i : i
            return chars.indices.contains(j) ? .string(String(chars[j])) : .undefined
        case let (_, .string(k)): return attribute(base, k)
        case (.undefined, _), (.null, _): return .undefined
        default: return .undefined
        }
    }

    private func slice(_ base: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?) throws -> JinjaValue {
        func intOrNil(_ v: JinjaValue?) throws -> Int? {
            switch v {
            case nil, .null?, .undefined?: return nil
            case .int(let i)?: return i
            default: throw fail("slice indices must be integers")
            }
        }
        let step = try intOrNil(c) ?? 1
        if step == 0 { throw fail("slice step cannot be zero") }
        func pick(_ n: Int) throws -> [Int] {
            func clamp(_ v: Int?, _ dflt: Int, _ lo: Int, _ hi: Int) -> Int {
                guard var v else { return dflt }
                if v < 0 { v += n }
                return min(max(v, lo), hi)
            }
            var out: [Int] = []
            if step > 0 {
                var i = clamp(try intOrNil(a), 0, 0, n)
                let end = clamp(try intOrNil(b), n, 0, n)
                while i < end { out.append(i); i += step }
            } else {
                var i = clamp(try intOrNil(a), n - 1, -1, n - 1)
                let end = clamp(try intOrNil(b), -1, -1, n - 1)
                while i > end { out.append(i); i += step }
            }
            return out
        }
        switch base {
        case .array(let arr): return .array(try pick(arr.count).map { arr[$0] })
        case .string(let s):
            let chars = Array(s)
            return .string(String(try pick(chars.count).map { chars[$0] }))
        case .undefined, .null: return .undefined
        default: throw fail("\(typeName(base)) cannot be sliced")
        }
    }

    func binary(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(l == r)
        case "!=": return .bool(l != r)
        case "~": return .string(l.pythonString + r.pythonString)
        case "in":
            switch r {
            case .string(let s):
                guard case .string(let sub) = l else { throw fail("'in <string>' requires a string on the left") }
                return .bool(sub.isEmpty || s.contains(sub))
            case .array(let a): return .bool(a.contains(l))
            case .object(let o): if case .string(let k) = l { return .bool(o[k] != nil) } else { return .bool(false) }
            case .namespace(let n): if case .string(let k) = l { return .bool(n.object[k] != nil) } else { return .bool(false) }
            case .undefined, .null: return .bool(false)
            default: throw fail("argument of type \(typeName(r)) is not iterable")
            }
        case "<", ">", "<=", ">=":
            let c: Int
            switch (l, r) {
            case let (.string(a), .string(b)): c = a < b ? -1 : a == b ? 0 : 1
            default:
                guard let a = number(l), let b = number(r) else {
                    throw fail("'\(op)' not supported between \(typeName(l)) and \(typeName(r))")
                }
                c = a < b ? -1 : a == b ? 0 : 1
            }
            switch op {
            case "<": return .bool(c < 0)
            case ">": return .bool(c > 0)
            case "<=": return .bool(c <= 0)
            default: return .bool(c >= 0)
            }
        case "+":
            switch (l, r) {
            case let (.string(a), .string(b)): return .string(a + b)
            case let (.array(a), .array(b)): return .array(a + b)
            default: break
            }
        default: break
        }
        // Arithmetic
        if case .int(let a) = l, case .int(let b) = r {
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "/": guard b != 0 else { throw fail("division by zero") }; return .double(Double(a) / Double(b))
            case "//":
                guard b != 0 else { throw fail("division by zero") }
                let q = a / b
                return .int(q * b != a && (a < 0) != (b < 0) ? q - 1 : q)
            case "%":
                guard b != 0 else { throw fail("modulo by zero") }
                let m = a % b
                return .int(m != 0 && (m < 0) != (b < 0) ? m + b : m)
            case "**": return .int(Int(Foundation.pow(Double(a), Double(b))))
            default: break
            }
        }
        if case .string(let s) = l, case .int(let n) = r, op == "*" { return .string(String(repeating: s, count: max(n, 0))) }
        if let a = number(l), let b = number(r), !(isBool(l) && isBool(r)) {
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            case "//": return .double((a / b).rounded(.down))
            case "%": return .double(a - b * (a / b).rounded(.down))
            case "**": return .double(Foundation.pow(a, b))
            default: break
            }
        }
        throw fail("unsupported operand types for \(op): \(typeName(l)) and \(typeName(r))")
    }

    private func isBool(_ v: JinjaValue) -> Bool { if case .bool = v { return true }; return false }

    func number(_ v: JinjaValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    // MARK: calls

    private func call(_ callee: JinjaExpr, _ argExprs: [JinjaExpr], _ kwargExprs: [(String, JinjaExpr)]) throws -> JinjaValue {
        let args = try argExprs.map(eval)
        let kwargs = try kwargExprs.map { ($0.0, try eval($0.1)) }
        switch callee {
        case let .attr(baseExpr, method):
            let base = try eval(baseExpr)
            if case .object(let o) = base, let v = o[method], v != .undefined {
                throw fail("'\(method)' is not callable (\(typeName(v)))")
            }
            if method == "append", case .array(var list) = base, args.count == 1 {
                list.append(args[0])
                try store(baseExpr, .array(list))
                return .null
            }
            return try callMethod(base, method, args, kwargs)
        case .name(let name):
            if let macro = macros[name] { return try callMacro(macro, args, kwargs) }
            switch name {
            case "namespace":
                var o = JinjaObject()
                if case .object(let init0)? = args.first { o = init0 }
                for (k, v) in kwargs { o[k] = v }
                return .namespace(JinjaNamespace(o))
            case "raise_exception":
                throw ChatTemplateError.raised(args.first?.pythonString ?? "")
            case "strftime_now":
                guard case .string(let fmt)? = args.first else { throw fail("strftime_now needs a format string") }
                return .string(JinjaEvaluator.strftime(fmt, now))
            case "range":
                let ints = args.compactMap { v -> Int? in if case .int(let i) = v { return i }; return nil }
                guard ints.count == args.count, (1...3).contains(ints.count) else { throw fail("range expects 1 to 3 integers") }
                let (lo, hi, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count == 3 ? ints[2] : 1)
                guard step != 0 else { throw fail("range step cannot be zero") }
                return .array(Swift.stride(from: lo, to: hi, by: step).map { .int($0) })
            case "dict":
                var o = JinjaObject()
                for (k, v) in kwargs { o[k] = v }
                return .object(o)
            default:
                throw fail("'\(name)' is undefined or not callable")
            }
        default:
            throw fail("expression is not callable")
        }
    }

    /// Writes back a mutated list (`x.append(...)`) to the variable or namespace attribute it came from.
    private func store(_ target: JinjaExpr, _ value: JinjaValue) throws {
        switch target {
        case .name(let n):
            for i in scopes.indices.reversed() where scopes[i][n] != nil { scopes[i][n] = value; return }
            scopes[scopes.count - 1][n] = value
        case let .attr(.name(n), attr):
            if case .namespace(let ns) = lookup(n) { ns.object[attr] = value; return }
            throw fail("cannot append to '\(n).\(attr)'")
        default:
            throw fail("append target must be a variable")
        }
    }

    private func callMacro(_ macro: JinjaMacro, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        var scope: [String: JinjaValue] = [:]
        for (i, (name, dflt)) in macro.params.enumerated() {
            if i < args.count { scope[name] = args[i] }
            else if let kw = kwargs.first(where: { $0.0 == name }) { scope[name] = kw.1 }
            else if let dflt { scope[name] = try eval(dflt) }
            else { scope[name] = .undefined }
        }
        let saved = scopes
        scopes = [scopes[0], scope]
        defer { scopes = saved }
        var out = ""
        try render(macro.body, into: &out)
        return .string(out)
    }

    static func strftime(_ format: String, _ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
        var out = ""
        var it = format.makeIterator()
        while let ch = it.next() {
            guard ch == "%", let f = it.next() else { out.append(ch); continue }
            switch f {
            case "d": out += two(c.day)
            case "m": out += two(c.month)
            case "Y": out += String(c.year ?? 0)
            case "y": out += two((c.year ?? 0) % 100)
            case "B": out += months[(c.month ?? 1) - 1]
            case "b": out += String(months[(c.month ?? 1) - 1].prefix(3))
            case "A": out += days[(c.weekday ?? 1) - 1]
            case "a": out += String(days[(c.weekday ?? 1) - 1].prefix(3))
            case "H": out += two(c.hour)
            case "I": out += two(((c.hour ?? 0) + 11) % 12 + 1)
            case "p": out += (c.hour ?? 0) < 12 ? "AM" : "PM"
            case "M": out += two(c.minute)
            case "S": out += two(c.second)
            case "j": out += String(format: "%03d", cal.ordinality(of: .day, in: .year, for: date) ?? 0)
            case "%": out += "%"
            default: out += "%\(f)"
            }
        }
        return out
    }
}

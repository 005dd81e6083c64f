// The template's syntax tree and the recursive-descent parser that builds it (Jinja's precedence).

indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    case attr(JinjaExpr, String)
    case item(JinjaExpr, JinjaExpr)
    case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
    case call(JinjaExpr, [JinjaExpr], [(String, JinjaExpr)])
    case filter(JinjaExpr, String, [JinjaExpr], [(String, JinjaExpr)])
    case test(JinjaExpr, String, [JinjaExpr], negated: Bool)
    case not(JinjaExpr)
    case negate(JinjaExpr)
    case binary(String, JinjaExpr, JinjaExpr)
    case and(JinjaExpr, JinjaExpr)
    case or(JinjaExpr, JinjaExpr)
    case ternary(JinjaExpr, cond: JinjaExpr, JinjaExpr?)
}

enum JinjaSetTarget: Sendable {
    case names([String])
    case attribute(String, String)
}

indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr, line: Int)
    case ifChain([(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode], line: Int)
    case forLoop(targets: [String], iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
                 otherwise: [JinjaNode], line: Int)
    case set(JinjaSetTarget, JinjaExpr, line: Int)
    case setBlock(String, [JinjaNode], line: Int)
    case macro(name: String, params: [(String, JinjaExpr?)], body: [JinjaNode], line: Int)
    case block([JinjaNode])
    case breakLoop(line: Int), continueLoop(line: Int)
}

struct JinjaParser {
    private let segments: [JinjaSegment]
    private var pos = 0
    // Expression state
    private var tokens: [JinjaToken] = []
    private var tk = 0
    private var line = 0

    init(segments: [JinjaSegment]) { self.segments = segments }

    static func parse(_ source: String) throws -> [JinjaNode] {
        var p = JinjaParser(segments: try JinjaLexer.segments(source))
        let (nodes, end) = try p.parseBody(until: [])
        if let end { throw ChatTemplateError.syntax(line: p.line, "unexpected '\(end)'") }
        return nodes
    }

    private func error(_ m: String) -> ChatTemplateError { .syntax(line: line, m) }

    /// Parses nodes until a statement whose keyword is in `until`; returns that keyword (tokens positioned after it).
    private mutating func parseBody(until: Set<String>) throws -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while pos < segments.count {
            let seg = segments[pos]
            pos += 1
            switch seg {
            case .text(let t): nodes.append(.text(t))
            case let .output(toks, l):
                start(toks, l)
                nodes.append(.output(try expression(), line: l))
                try finish()
            case let .statement(toks, l):
                start(toks, l)
                guard case .name(let kw) = peek else { throw error("expected a statement keyword") }
                if until.contains(kw) { tk += 1; return (nodes, kw) }
                tk += 1
                nodes.append(try statement(kw, line: l))
            }
        }
        if !until.isEmpty { throw error("missing '\(until.sorted().joined(separator: "' or '"))'") }
        return (nodes, nil)
    }

    private mutating func statement(_ kw: String, line l: Int) throws -> JinjaNode {
        switch kw {
        case "if":
            var branches: [(JinjaExpr, [JinjaNode])] = []
            var cond = try expression()
            try finish()
            while true {
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                if end == "elif" { cond = try expression(); try finish(); continue }
                if end == "else" {
                    try finish()
                    let (other, _) = try parseBody(until: ["endif"])
                    try finish()
                    return .ifChain(branches, otherwise: other, line: l)
                }
                try finish()
                return .ifChain(branches, otherwise: [], line: l)
            }
        case "for":
            var targets = [try identifier()]
            while accept(.op(",")) { targets.append(try identifier()) }
            try expect(.name("in"))
            let iterable = try orExpr()
            let condition = accept(.name("if")) ? try orExpr() : nil
            try finish()
            let (body, end) = try parseBody(until: ["else", "endfor"])
            var other: [JinjaNode] = []
            try finish()
            if end == "else" { (other, _) = try parseBody(until: ["endfor"]); try finish() }
            return .forLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: other, line: l)
        case "set":
            let first = try identifier()
            if accept(.op(".")) {
                let attr = try identifier()
                try expect(.op("="))
                let value = try expression()
                try finish()
                return .set(.attribute(first, attr), value, line: l)
            }
            var names = [first]
            while accept(.op(",")) { names.append(try identifier()) }
            if accept(.op("=")) {
                let value = try tupleOrExpression()
                try finish()
                return .set(.names(names), value, line: l)
            }
            try finish()
            let (body, _) = try parseBody(until: ["endset"])
            try finish()
            return .setBlock(first, body, line: l)
        case "macro":
            let name = try identifier()
            try expect(.op("("))
            var params: [(String, JinjaExpr?)] = []
            while !accept(.op(")")) {
                let p = try identifier()
                params.append((p, accept(.op("=")) ? try expression() : nil))
                if !accept(.op(",")) { try expect(.op(")")); break }
            }
            try finish()
            let (body, _) = try parseBody(until: ["endmacro"])
            try finish()
            return .macro(name: name, params: params, body: body, line: l)
        case "generation":
            try finish()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try finish()
            return .block(body)
        case "break": try finish(); return .breakLoop(line: l)
        case "continue": try finish(); return .continueLoop(line: l)
        default:
            throw error("unknown statement '\(kw)'")
        }
    }

    // MARK: expressions

    private mutating func start(_ toks: [JinjaToken], _ l: Int) { tokens = toks; tk = 0; line = l }
    private var peek: JinjaToken? { tk < tokens.count ? tokens[tk] : nil }
    private mutating func accept(_ t: JinjaToken) -> Bool {
        if peek == t { tk += 1; return true }
        return false
    }
    private mutating func expect(_ t: JinjaToken) throws {
        guard accept(t) else { throw error("expected \(describe(t)), found \(peek.map(describe) ?? "end of tag")") }
    }
    private mutating func finish() throws {
        if let t = peek { throw error("unexpected \(describe(t))") }
    }
    private func describe(_ t: JinjaToken) -> String {
        switch t {
        case .name(let n): return "'\(n)'"
        case .op(let o): return "'\(o)'"
        case .string(let s): return "string \(JinjaValue.string(s).pythonRepr)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        }
    }
    private mutating func identifier() throws -> String {
        guard case .name(let n) = peek else { throw error("expected a name, found \(peek.map(describe) ?? "end of tag")") }
        tk += 1
        return n
    }

    /// `a, b` (a tuple, built as a list) or a single expression.
    private mutating func tupleOrExpression() throws -> JinjaExpr {
        let first = try expression()
        guard peek == .op(",") else { return first }
        var items = [first]
        while accept(.op(",")) { items.append(try expression()) }
        return .list(items)
    }

    mutating func expression() throws -> JinjaExpr {
        let value = try orExpr()
        if accept(.name("if")) {
            let cond = try orExpr()
            let other = accept(.name("else")) ? try expression() : nil
            return .ternary(value, cond: cond, other)
        }
        return value
    }

    private mutating func orExpr() throws -> JinjaExpr {
        var l = try andExpr()
        while accept(.name("or")) { l = .or(l, try andExpr()) }
        return l
    }
    private mutating func andExpr() throws -> JinjaExpr {
        var l = try notExpr()
        while accept(.name("and")) { l = .and(l, try notExpr()) }
        return l
    }
    private mutating func notExpr() throws -> JinjaExpr {
        if accept(.name("not")) { return .not(try notExpr()) }
        return try compare()
    }
    private mutating func compare() throws -> JinjaExpr {
        var l = try math1()
        while true {
            if case .op(let o) = peek, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                tk += 1; l = .binary(o, l, try math1())
            } else if accept(.name("in")) {
                l = .binary("in", l, try math1())
            } else if peek == .name("not"), tk + 1 < tokens.count, tokens[tk + 1] == .name("in") {
                tk += 2; l = .not(.binary("in", l, try math1()))
            } else {
                return l
            }
        }
    }
    private mutating func math1() throws -> JinjaExpr {
        var l = try concat()
        while case .op(let o) = peek, o == "+" || o == "-" { tk += 1; l = .binary(o, l, try concat()) }
        return l
    }
    private mutating func concat() throws -> JinjaExpr {
        var l = try math2()
        while accept(.op("~")) { l = .binary("~", l, try math2()) }
        return l
    }
    private mutating func math2() throws -> JinjaExpr {
        var l = try pow()
        while case .op(let o) = peek, ["*", "/", "//", "%"].contains(o) { tk += 1; l = .binary(o, l, try pow()) }
        return l
    }
    private mutating func pow() throws -> JinjaExpr {
        var l = try unary(withFilter: true)
        while accept(.op("**")) { l = .binary("**", l, try unary(withFilter: true)) }
        return l
    }
    private mutating func unary(withFilter: Bool) throws -> JinjaExpr {
        var node: JinjaExpr
        if accept(.op("-")) { node = .negate(try unary(withFilter: false)) }
        else if accept(.op("+")) { node = try unary(withFilter: false) }
        else { node = try postfix(try primary()) }
        if withFilter { node = try filters(node) }
        return node
    }

    private mutating func primary() throws -> JinjaExpr {
        guard let t = peek else { throw error("expected an expression, found end of tag") }
        tk += 1
        switch t {
        case .string(var s):
            while case .string(let more) = peek { s += more; tk += 1 }
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.null)
            default: return .name(n)
            }
        case .op("("):
            let e = try tupleOrExpression()
            try expect(.op(")"))
            return e
        case .op("["):
            var items: [JinjaExpr] = []
            while !accept(.op("]")) {
                items.append(try expression())
                if !accept(.op(",")) { try expect(.op("]")); break }
            }
            return .list(items)
        case .op("{"):
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !accept(.op("}")) {
                let k = try expression()
                try expect(.op(":"))
                pairs.append((k, try expression()))
                if !accept(.op(",")) { try expect(.op("}")); break }
            }
            return .dict(pairs)
        default:
            throw error("unexpected \(describe(t))")
        }
    }

    private mutating func postfix(_ base: JinjaExpr) throws -> JinjaExpr {
        var node = base
        while true {
            if accept(.op(".")) {
                if case .int(let i) = peek { tk += 1; node = .item(node, .literal(.int(i))); continue }
                node = .attr(node, try identifier())
            } else if accept(.op("[")) {
                var parts: [JinjaExpr?] = [nil]
                var isSlice = false
                while !accept(.op("]")) {
                    if accept(.op(":")) { isSlice = true; parts.append(nil); continue }
                    parts[parts.count - 1] = try expression()
                }
                if isSlice {
                    while parts.count < 3 { parts.append(nil) }
                    node = .slice(node, parts[0], parts[1], parts[2])
                } else {
                    guard let index = parts[0] else { throw error("empty subscript") }
                    node = .item(node, index)
                }
            } else if peek == .op("(") {
                tk += 1
                let (args, kwargs) = try callArguments()
                node = .call(node, args, kwargs)
            } else {
                return node
            }
        }
    }

    /// After '(' : positional and keyword arguments up to ')'.
    private mutating func callArguments() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        var args: [JinjaExpr] = []
        var kwargs: [(String, JinjaExpr)] = []
        while !accept(.op(")")) {
            if case .name(let n) = peek, tk + 1 < tokens.count, tokens[tk + 1] == .op("=") {
                tk += 2
                kwargs.append((n, try expression()))
            } else {
                args.append(try expression())
            }
            if !accept(.op(",")) { try expect(.op(")")); break }
        }
        return (args, kwargs)
    }

    private mutating func filters(_ base: JinjaExpr) throws -> JinjaExpr {
        var node = base
        while true {
            if accept(.op("|")) {
                let name = try identifier()
                var args: [JinjaExpr] = [], kwargs: [(String, JinjaExpr)] = []
                if accept(.op("(")) { (args, kwargs) = try callArguments() }
                node = .filter(node, name, args, kwargs)
                node = try postfix(node)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                var name = try identifier()
                if name == "none" { name = "none" }
                var args: [JinjaExpr] = []
                if accept(.op("(")) { (args, _) = try callArguments() }
                else if let t = peek, isTestArgumentStart(t) { args = [try unary(withFilter: false)] }
                node = .test(node, name, args, negated: negated)
            } else {
                return node
            }
        }
    }

    private func isTestArgumentStart(_ t: JinjaToken) -> Bool {
        switch t {
        case .string, .int, .double: return true
        case .name(let n): return !["and", "or", "else", "if", "not", "in", "is"].contains(n)
        default: return false
        }
    }
}

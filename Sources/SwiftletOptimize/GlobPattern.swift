// Glob patterns over tensor names (`blk.*.attn_{q,k,v}.weight`), matched against the whole name.

/// A glob over tensor names: `*` matches any run of characters (dots included, so `*.q_proj.weight`
/// matches at any depth), `?` exactly one character, `{a,b,c}` any one of the alternatives (they may
/// hold wildcards and nest). Every other character, `,` outside braces included, matches itself.
/// Matching is case-sensitive and covers the whole name.
public struct GlobPattern: Sendable, Equatable, CustomStringConvertible {
    /// Why a pattern cannot be used.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    enum Token: Equatable { case char(Unicode.Scalar), one, any }

    public let text: String
    /// The brace alternatives expanded: the name must match one of these.
    let alternatives: [[Token]]

    /// A pattern expands to at most this many brace alternatives.
    static let maxAlternatives = 1024

    public init(_ text: String) throws(Invalid) {
        guard !text.isEmpty else { throw Invalid(description: "empty pattern") }
        var parser = Parser(scalars: Array(text.unicodeScalars))
        do throws(Invalid) {
            alternatives = try parser.sequence(inBraces: false)
            if parser.i < parser.scalars.count { throw Invalid(description: "unmatched '}'") }
        } catch {
            throw Invalid(description: "\(error.description) in pattern \"\(text)\"")
        }
        self.text = text
    }

    public var description: String { text }

    public static func == (a: GlobPattern, b: GlobPattern) -> Bool { a.text == b.text }

    public func matches(_ name: String) -> Bool { matches(Array(name.unicodeScalars)) }

    func matches(_ name: [Unicode.Scalar]) -> Bool {
        alternatives.contains { Self.match($0, name) }
    }

    /// Wildcard matching with one backtrack point (the last `*`): linear for most patterns,
    /// O(pattern * name) at worst.
    static func match(_ p: [Token], _ s: [Unicode.Scalar]) -> Bool {
        var pi = 0, si = 0
        var star = -1, resume = 0
        while si < s.count {
            if pi < p.count, p[pi] == .any {
                star = pi
                resume = si
                pi += 1
            } else if pi < p.count, p[pi] == .one || p[pi] == .char(s[si]) {
                pi += 1
                si += 1
            } else if star >= 0 {
                pi = star + 1
                resume += 1
                si = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == .any { pi += 1 }
        return pi == p.count
    }

    /// Brace expansion: a sequence is the cross product of its parts' alternatives.
    struct Parser {
        let scalars: [Unicode.Scalar]
        var i = 0

        /// Reads up to the end, or (in braces) up to the `,` or `}` that ends this alternative.
        mutating func sequence(inBraces: Bool) throws(Invalid) -> [[Token]] {
            var results: [[Token]] = [[]]
            while i < scalars.count {
                let c = scalars[i]
                if inBraces, c == "," || c == "}" { break }
                if c == "}" { break }
                i += 1
                switch c {
                case "{":
                    let choices = try braces()
                    guard results.count * choices.count <= GlobPattern.maxAlternatives else {
                        throw Invalid(description: "more than \(GlobPattern.maxAlternatives) brace alternatives")
                    }
                    results = results.flatMap { head in choices.map { head + $0 } }
                case "*":
                    // `**` is the same as `*`.
                    for r in results.indices where results[r].last != .any { results[r].append(.any) }
                case "?": for r in results.indices { results[r].append(.one) }
                default: for r in results.indices { results[r].append(.char(c)) }
                }
            }
            return results
        }

        /// After a `{`: alternatives separated by `,` up to the matching `}`.
        mutating func braces() throws(Invalid) -> [[Token]] {
            var choices: [[Token]] = []
            while true {
                choices += try sequence(inBraces: true)
                guard i < scalars.count else { throw Invalid(description: "unclosed '{'") }
                let c = scalars[i]
                i += 1
                if c == "}" { return choices }
            }
        }
    }
}

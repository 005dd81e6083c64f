// Splits a template into text and tags (with trim_blocks, lstrip_blocks and `-` whitespace
// control applied), and tags into expression tokens.
import Foundation

/// A template that fails to parse or render; the message names the line and the problem.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case syntax(line: Int, String)
    case render(line: Int, String)
    /// `raise_exception(message)` was called by the template.
    case raised(String)

    public var description: String {
        switch self {
        case let .syntax(line, m): return "template syntax error, line \(line): \(m)"
        case let .render(line, m): return "template error, line \(line): \(m)"
        case let .raised(m): return "template raised: \(m)"
        }
    }
}

enum JinjaToken: Equatable {
    case name(String)
    case string(String)
    case int(Int)
    case double(Double)
    case op(String)
}

enum JinjaSegment {
    case text(String)
    case output([JinjaToken], line: Int)
    case statement([JinjaToken], line: Int)
}

enum JinjaLexer {
    private enum Kind { case output, statement, comment }
    private struct Tag { var kind: Kind; var stripLeft: Bool; var stripRight: Bool; var body: String; var line: Int }
    private enum Raw { case text(String, lineStart: Bool); case tag(Tag) }

    static func segments(_ source: String) throws -> [JinjaSegment] {
        let s = Array(source.unicodeScalars)
        var raws: [Raw] = []
        var i = 0, line = 1, textStart = 0
        func str(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(s[a..<b])) }
        while i < s.count {
            if s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" {
                let kind: Kind = s[i + 1] == "{" ? .output : s[i + 1] == "%" ? .statement : .comment
                let close: Unicode.Scalar = kind == .output ? "}" : kind == .statement ? "%" : "#"
                raws.append(.text(str(textStart, i), lineStart: textStart == 0 || s[textStart - 1] == "\n"))
                let tagLine = line
                var j = i + 2
                var stripLeft = false
                if j < s.count, s[j] == "-" { stripLeft = true; j += 1 } else if j < s.count, s[j] == "+" { j += 1 }
                let bodyStart = j
                var quote: Unicode.Scalar? = nil
                var end = -1
                while j + 1 < s.count {
                    if s[j] == "\n" { line += 1 }
                    if let q = quote {
                        if s[j] == "\\" { j += 2; continue }
                        if s[j] == q { quote = nil }
                    } else if kind != .comment, s[j] == "'" || s[j] == "\"" {
                        quote = s[j]
                    } else if s[j] == close, s[j + 1] == "}" {
                        end = j; break
                    }
                    j += 1
                }
                if end < 0 { throw ChatTemplateError.syntax(line: tagLine, "unclosed tag") }
                var bodyEnd = end
                var stripRight = false
                if bodyEnd > bodyStart, s[bodyEnd - 1] == "-" { stripRight = true; bodyEnd -= 1 }
                raws.append(.tag(Tag(kind: kind, stripLeft: stripLeft, stripRight: stripRight,
                                     body: bodyStart < bodyEnd ? str(bodyStart, bodyEnd) : "", line: tagLine)))
                i = end + 2
                textStart = i
                continue
            }
            if s[i] == "\n" { line += 1 }
            i += 1
        }
        raws.append(.text(str(textStart, s.count), lineStart: textStart == 0 || s[textStart - 1] == "\n"))

        // Whitespace control on each text from the tags around it.
        var out: [JinjaSegment] = []
        for (k, raw) in raws.enumerated() {
            switch raw {
            case .text(var text, var lineStart):
                if k > 0, case .tag(let prev) = raws[k - 1] {
                    if prev.stripRight {
                        text = String(text.drop { $0.isWhitespace })
                    } else if prev.kind != .output {
                        if text.hasPrefix("\r\n") { text.removeFirst(2); lineStart = true } else if text.hasPrefix("\n") { text.removeFirst(); lineStart = true }
                    }
                }
                if k + 1 < raws.count, case .tag(let next) = raws[k + 1] {
                    if next.stripLeft {
                        while let last = text.last, last.isWhitespace { text.removeLast() }
                    } else if next.kind != .output {
                        let tail = text.reversed().prefix { $0 == " " || $0 == "\t" }
                        let restEnd = text.count - tail.count
                        if restEnd > 0 ? text[text.index(text.startIndex, offsetBy: restEnd - 1)] == "\n" : lineStart {
                            text.removeLast(tail.count)
                        }
                    }
                }
                if !text.isEmpty { out.append(.text(text)) }
            case .tag(let tag):
                switch tag.kind {
                case .comment: break
                case .output: out.append(.output(try tokenize(tag.body, line: tag.line), line: tag.line))
                case .statement: out.append(.statement(try tokenize(tag.body, line: tag.line), line: tag.line))
                }
            }
        }
        return out
    }

    static func tokenize(_ body: String, line: Int) throws -> [JinjaToken] {
        let s = Array(body.unicodeScalars)
        var i = 0
        var tokens: [JinjaToken] = []
        func isIdent(_ c: Unicode.Scalar, first: Bool) -> Bool {
            c == "_" || (c.properties.isAlphabetic && c.isASCII) || (!first && ("0"..."9").contains(c))
        }
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\n" || c == "\t" || c == "\r" { i += 1; continue }
            if isIdent(c, first: true) {
                let start = i
                while i < s.count, isIdent(s[i], first: false) { i += 1 }
                tokens.append(.name(String(String.UnicodeScalarView(s[start..<i]))))
            } else if ("0"..."9").contains(c) {
                let start = i
                var isFloat = false
                while i < s.count, ("0"..."9").contains(s[i]) || s[i] == "_" ||
                        (s[i] == "." && !isFloat && i + 1 < s.count && ("0"..."9").contains(s[i + 1])) {
                    if s[i] == "." { isFloat = true }
                    i += 1
                }
                let text = String(String.UnicodeScalarView(s[start..<i])).replacingOccurrences(of: "_", with: "")
                tokens.append(isFloat ? .double(Double(text)!) : .int(Int(text)!))
            } else if c == "'" || c == "\"" {
                i += 1
                var out = String.UnicodeScalarView()
                while i < s.count, s[i] != c {
                    if s[i] == "\\", i + 1 < s.count {
                        i += 1
                        switch s[i] {
                        case "n": out.append("\n")
                        case "t": out.append("\t")
                        case "r": out.append("\r")
                        case "0": out.append("\0")
                        case "\\", "'", "\"": out.append(s[i])
                        default: out.append("\\"); out.append(s[i])
                        }
                    } else {
                        out.append(s[i])
                    }
                    i += 1
                }
                if i >= s.count { throw ChatTemplateError.syntax(line: line, "unterminated string literal") }
                i += 1
                tokens.append(.string(String(out)))
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    tokens.append(.op(two)); i += 2
                } else if "+-*/%~|.,:()[]{}<>=".unicodeScalars.contains(c) {
                    tokens.append(.op(String(c))); i += 1
                } else {
                    throw ChatTemplateError.syntax(line: line, "unexpected character '\(c)'")
                }
            }
        }
        return tokens
    }
}

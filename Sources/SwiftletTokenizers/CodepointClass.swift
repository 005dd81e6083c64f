// Unicode classes the pre-tokenizer patterns test (\p{L}, \p{N}, \p{P}, \p{S}, \p{M}, \s), with the same
// definitions as llama.cpp's generated tables: general categories, and its fixed whitespace set.

struct CodepointClass: OptionSet, Sendable {
    let rawValue: UInt8
    static let letter = CodepointClass(rawValue: 1)
    static let number = CodepointClass(rawValue: 2)
    static let whitespace = CodepointClass(rawValue: 4)
    static let punctuation = CodepointClass(rawValue: 8)
    static let symbol = CodepointClass(rawValue: 16)
    static let mark = CodepointClass(rawValue: 32)

    /// Classes of a code point (BMP from a table built once, the rest computed).
    @inline(__always)
    static func of(_ c: UInt32) -> CodepointClass {
        if c < 0x10000 { return CodepointClass(rawValue: bmpTable[Int(c)]) }
        return compute(c)
    }

    private static let bmpTable: [UInt8] = (0..<0x10000).map { compute(UInt32($0)).rawValue }

    private static func compute(_ c: UInt32) -> CodepointClass {
        guard let s = Unicode.Scalar(c) else { return [] }  // surrogates: category Cs, no class
        var r: CodepointClass = []
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            r.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            r.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            r.insert(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            r.insert(.symbol)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            r.insert(.mark)
        default:
            break
        }
        if isWhitespace(c) { r.insert(.whitespace) }
        return r
    }

    /// llama.cpp's `unicode_set_whitespace`.
    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
